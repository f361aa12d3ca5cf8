"""The control plane: finance and operations environments and Power Platform environments, the 1:1 Power Platform
integration link between them, automatic enablement, and the features the link unlocks."""
