// Customers exactly as Isthmus exposes them at /data/CustomersV3: the same key and the same 32 properties,
// names and sizes, so both servers read rows of the same width and send the same payload.
namespace isthmus.bench;

entity Customers {
  key dataAreaId                          : String(8);
  key CustomerAccount                     : String(20);
      PartyNumber                         : String(20);
      PartyType                           : String(20);
      OrganizationName                    : String(100);
      PersonFirstName                     : String(25);
      PersonMiddleName                    : String(25);
      PersonLastName                      : String(25);
      CustomerGroupId                     : String(10);
      SalesCurrencyCode                   : String(3);
      CreditLimit                         : Decimal(32, 6);
      CreditLimitIsMandatory              : String(3);
      OnHoldStatus                        : String(12);
      PaymentTerms                        : String(20);
      InvoiceAccount                      : String(20);
      LanguageId                          : String(7);
      PrimaryContactEmail                 : String(80);
      PrimaryContactPhone                 : String(20);
      PrimaryContactURL                   : String(255);
      SalesMemo                           : String(1000);
      DeliveryAddressStreet               : String(250);
      DeliveryAddressCity                 : String(60);
      DeliveryAddressState                : String(10);
      DeliveryAddressZipCode              : String(10);
      DeliveryAddressCounty               : String(10);
      DeliveryAddressCountryRegionISOCode : String(3);
      InvoiceAddressStreet                : String(250);
      InvoiceAddressCity                  : String(60);
      InvoiceAddressState                 : String(10);
      InvoiceAddressZipCode               : String(10);
      InvoiceAddressCounty                : String(10);
      InvoiceAddressCountryRegionISOCode  : String(3);
}
