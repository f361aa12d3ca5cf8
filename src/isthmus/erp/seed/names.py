"""The word lists the demo data is made of: company-name parts, person names, streets and cities per country,
product words and services.

They are loaded into a small work table (``seed_word``) at the start of a run, and the bulk SQL picks from
them by ``hash % len(list)``. Changing, adding or reordering a word changes the generated data of every later
run; the lists are part of what "the same seed gives the same data" means. Country-specific lists are keyed by
the company's ISO country (``USA``, ``DEU``, ``GBR``). Everything a customer can be e-mailed or called at is
fictional: e-mail and web addresses are under ``example.com`` (reserved, RFC 2606) and phone numbers are in
the ranges reserved for drama (US 555-01xx, Ofcom's 0161 496 0xxx and friends).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

# The lists are data, laid out to be read; keep the formatter from putting one word per line.
# fmt: off

# --- organisations ------------------------------------------------------------------------------------------

ORG_FIRST: tuple[str, ...] = (
    "Alpine", "Apex", "Atlas", "Aurora", "Beacon", "Blue Yonder", "Bluebird", "Bright", "Cascade", "Cedar",
    "Coho", "Crescent", "Eastwood", "Evergreen", "Fabrikam", "Fourth Coffee", "Golden Gate", "Granite",
    "Graphic", "Harbor", "Horizon", "Humongous", "Ironwood", "Juniper", "Keystone", "Lakeside", "Litware",
    "Lucerne", "Maple", "Meridian", "Nod", "Northstar", "Northwind", "Oakridge", "Orion", "Pacific",
    "Pinnacle", "Proseware", "Quantum", "Redwood", "Relecloud", "Riverbend", "Sierra", "Silverline",
    "Southridge", "Starlight", "Sterling", "Summit", "Sunrise", "Tailspin", "Titan", "Trey", "Trident",
    "Unity", "VanArsdel", "Vertex", "Vista", "Westwind", "Wide World", "Wingtip", "Woodgrove", "Zenith",
)

ORG_SECOND: tuple[str, ...] = (
    "Airlines", "Audio", "Books", "Cinemas", "Devices", "Distribution", "Electronics", "Enterprises",
    "Events", "Foods", "Furniture", "Gadgets", "Games", "Group", "Hardware", "Holdings", "Hotels", "Imports",
    "Industries", "Interiors", "Labs", "Lighting", "Logistics", "Manufacturing", "Markets", "Media", "Motors",
    "Music", "Networks", "Outfitters", "Partners", "Pharmacy", "Retail", "Ski House", "Solutions", "Sound",
    "Sports", "Stores", "Studios", "Supplies", "Systems", "Toys", "Traders", "Trading", "Travel", "Wholesale",
    "Works",
)

LEGAL_SUFFIX: dict[str, tuple[str, ...]] = {
    "USA": ("Inc.", "LLC", "Corp.", "Co."),
    "DEU": ("GmbH", "AG", "KG", "GmbH & Co. KG"),
    "GBR": ("Ltd", "PLC", "LLP", "Ltd"),
}

# --- persons ------------------------------------------------------------------------------------------------

FIRST_NAMES: dict[str, tuple[str, ...]] = {
    "USA": (
        "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
        "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Christopher",
        "Karen", "Daniel", "Lisa", "Matthew", "Nancy", "Anthony", "Betty", "Mark", "Sandra", "Steven",
        "Ashley", "Paul", "Emily", "Andrew", "Kimberly", "Joshua", "Donna", "Kevin", "Michelle", "Brian",
        "Carol",
    ),
    "DEU": (
        "Lukas", "Anna", "Leon", "Emma", "Finn", "Mia", "Paul", "Hannah", "Jonas", "Sophia", "Elias", "Lena",
        "Felix", "Marie", "Noah", "Lea", "Luis", "Johanna", "Ben", "Clara", "Maximilian", "Laura", "Moritz",
        "Julia", "Jakob", "Sarah", "Tim", "Katharina", "Niklas", "Jürgen",
    ),
    "GBR": (
        "Oliver", "Olivia", "George", "Amelia", "Harry", "Isla", "Jack", "Ava", "Jacob", "Emily", "Charlie",
        "Sophie", "Thomas", "Grace", "Oscar", "Lily", "William", "Freya", "James", "Evie", "Henry", "Ella",
        "Arthur", "Poppy", "Alfie", "Chloe", "Leo", "Ruby", "Noah", "Daisy",
    ),
}

LAST_NAMES: dict[str, tuple[str, ...]] = {
    "USA": (
        "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
        "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore",
        "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez",
        "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen",
        "Hill", "Flores",
    ),
    "DEU": (
        "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
        "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz",
        "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner", "Schmitz",
        "Krause", "Meier",
    ),
    "GBR": (
        "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas", "Johnson",
        "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards", "Hughes", "Green", "Hall",
        "Lewis", "Harris", "Clarke", "Patel", "Jackson", "Wood", "Turner", "Martin", "Cooper", "Hill",
    ),
}

# --- addresses ----------------------------------------------------------------------------------------------

STREETS: dict[str, tuple[str, ...]] = {
    "USA": (
        "Main Street", "Oak Avenue", "Pine Street", "Maple Drive", "Cedar Lane", "Elm Street",
        "Washington Avenue", "Lake Road", "Hill Road", "Park Avenue", "1st Avenue", "2nd Street", "Broadway",
        "Market Street", "Union Street", "Lincoln Way", "Madison Avenue", "Jefferson Street",
        "Sunset Boulevard", "Commerce Drive", "Industrial Parkway", "Harbor Way", "River Road", "Meadow Lane",
        "Ridge Road",
    ),
    "DEU": (
        "Hauptstraße", "Bahnhofstraße", "Schulstraße", "Gartenstraße", "Dorfstraße", "Bergstraße",
        "Lindenstraße", "Kirchstraße", "Waldstraße", "Ringstraße", "Schillerstraße", "Goethestraße",
        "Industriestraße", "Friedrichstraße", "Marktplatz", "Am Hafen", "Rosenweg", "Birkenweg", "Mühlenweg",
        "Parkstraße",
    ),
    "GBR": (
        "High Street", "Station Road", "Church Street", "Victoria Road", "Park Road", "Green Lane",
        "Manor Road", "Church Lane", "Kings Road", "Queen Street", "London Road", "Mill Lane", "The Crescent",
        "Alexandra Road", "York Road", "Albert Street", "Castle Street", "Market Place", "Bridge Street",
        "North Street",
    ),
}

# (city, state, zip code, county, phone prefix); the generator appends the country's digits to the prefix.
CITIES: dict[str, tuple[tuple[str, str, str, str, str], ...]] = {
    "USA": (
        ("Seattle", "WA", "98101", "KING", "+1 206 555 01"),
        ("Redmond", "WA", "98052", "KING", "+1 425 555 01"),
        ("Bellevue", "WA", "98004", "KING", "+1 425 555 01"),
        ("Tacoma", "WA", "98402", "PIERCE", "+1 253 555 01"),
        ("Spokane", "WA", "99201", "SPOKANE", "+1 509 555 01"),
        ("Portland", "OR", "97204", "MULTNOMAH", "+1 503 555 01"),
        ("San Francisco", "CA", "94105", "SF", "+1 415 555 01"),
        ("Los Angeles", "CA", "90012", "LA", "+1 213 555 01"),
        ("San Diego", "CA", "92101", "SAN DIEGO", "+1 619 555 01"),
        ("Sacramento", "CA", "95814", "SACRAMENTO", "+1 916 555 01"),
        ("Phoenix", "AZ", "85004", "MARICOPA", "+1 602 555 01"),
        ("Denver", "CO", "80202", "DENVER", "+1 303 555 01"),
        ("Dallas", "TX", "75201", "DALLAS", "+1 214 555 01"),
        ("Austin", "TX", "78701", "TRAVIS", "+1 512 555 01"),
        ("Houston", "TX", "77002", "HARRIS", "+1 713 555 01"),
        ("Chicago", "IL", "60601", "COOK", "+1 312 555 01"),
        ("Minneapolis", "MN", "55401", "HENNEPIN", "+1 612 555 01"),
        ("Atlanta", "GA", "30303", "FULTON", "+1 404 555 01"),
        ("Miami", "FL", "33130", "MIAMI-DADE", "+1 305 555 01"),
        ("Orlando", "FL", "32801", "ORANGE", "+1 407 555 01"),
        ("Boston", "MA", "02108", "SUFFOLK", "+1 617 555 01"),
        ("New York", "NY", "10007", "NEW YORK", "+1 212 555 01"),
        ("Philadelphia", "PA", "19107", "PHILA", "+1 215 555 01"),
        ("Washington", "DC", "20001", "DC", "+1 202 555 01"),
        ("Charlotte", "NC", "28202", "MECKLENBRG", "+1 704 555 01"),
        ("Nashville", "TN", "37201", "DAVIDSON", "+1 615 555 01"),
        ("Detroit", "MI", "48226", "WAYNE", "+1 313 555 01"),
        ("Columbus", "OH", "43215", "FRANKLIN", "+1 614 555 01"),
        ("Salt Lake City", "UT", "84101", "SALT LAKE", "+1 801 555 01"),
        ("Las Vegas", "NV", "89101", "CLARK", "+1 702 555 01"),
    ),
    "DEU": (
        ("Berlin", "BE", "10115", "B", "+49 30 "),
        ("Hamburg", "HH", "20095", "HH", "+49 40 "),
        ("München", "BY", "80331", "M", "+49 89 "),
        ("Köln", "NW", "50667", "K", "+49 221 "),
        ("Frankfurt am Main", "HE", "60311", "F", "+49 69 "),
        ("Stuttgart", "BW", "70173", "S", "+49 711 "),
        ("Düsseldorf", "NW", "40213", "D", "+49 211 "),
        ("Leipzig", "SN", "04109", "L", "+49 341 "),
        ("Dortmund", "NW", "44135", "DO", "+49 231 "),
        ("Essen", "NW", "45127", "E", "+49 201 "),
        ("Bremen", "HB", "28195", "HB", "+49 421 "),
        ("Dresden", "SN", "01067", "DD", "+49 351 "),
        ("Hannover", "NI", "30159", "H", "+49 511 "),
        ("Nürnberg", "BY", "90402", "N", "+49 911 "),
        ("Bonn", "NW", "53111", "BN", "+49 228 "),
        ("Mannheim", "BW", "68159", "MA", "+49 621 "),
        ("Karlsruhe", "BW", "76133", "KA", "+49 721 "),
        ("Augsburg", "BY", "86150", "A", "+49 821 "),
        ("Freiburg im Breisgau", "BW", "79098", "FR", "+49 761 "),
        ("Mainz", "RP", "55116", "MZ", "+49 6131 "),
    ),
    "GBR": (
        ("London", "ENG", "EC1A 1BB", "LND", "+44 20 7946 0"),
        ("Manchester", "ENG", "M1 1AE", "GTM", "+44 161 496 0"),
        ("Birmingham", "ENG", "B1 1AA", "WMD", "+44 121 496 0"),
        ("Leeds", "ENG", "LS1 1UR", "WYK", "+44 113 496 0"),
        ("Liverpool", "ENG", "L1 8JQ", "MSY", "+44 151 496 0"),
        ("Bristol", "ENG", "BS1 4DJ", "BST", "+44 117 496 0"),
        ("Newcastle upon Tyne", "ENG", "NE1 7RU", "TWR", "+44 191 498 0"),
        ("Sheffield", "ENG", "S1 2HE", "SYK", "+44 114 496 0"),
        ("Nottingham", "ENG", "NG1 5FS", "NTT", "+44 115 496 0"),
        ("Cambridge", "ENG", "CB2 1TN", "CAM", "+44 1632 960"),
        ("Oxford", "ENG", "OX1 2JD", "OXF", "+44 1632 960"),
        ("Glasgow", "SCT", "G1 1XQ", "GLG", "+44 141 496 0"),
        ("Edinburgh", "SCT", "EH1 1YZ", "EDH", "+44 131 496 0"),
        ("Aberdeen", "SCT", "AB10 1AB", "ABE", "+44 1632 960"),
        ("Cardiff", "WLS", "CF10 1EP", "CRF", "+44 29 2018 0"),
        ("Swansea", "WLS", "SA1 1NW", "SWA", "+44 1632 960"),
        ("Belfast", "NIR", "BT1 5GS", "BFS", "+44 28 9018 0"),
    ),
}

# --- products -----------------------------------------------------------------------------------------------

PRODUCT_ADJECTIVES: tuple[str, ...] = (
    "Compact", "Premium", "Wireless", "Portable", "Studio", "Classic", "Professional", "Ultra", "Smart",
    "Digital", "Outdoor", "Deluxe", "Mini", "Slim", "Active", "Hi-Fi", "Stereo", "Surround", "Travel", "Home",
    "Desktop", "Rugged", "Essential", "Advanced", "Signature", "Elite", "Urban", "Vintage", "Modular",
    "Quiet",
)

# (noun, item group, sales unit)
PRODUCT_NOUNS: tuple[tuple[str, str, str], ...] = (
    ("Speaker", "Audio", "ea"), ("Headphones", "Audio", "ea"), ("Amplifier", "Audio", "ea"),
    ("Microphone", "Audio", "ea"), ("Turntable", "Audio", "ea"), ("Receiver", "Audio", "ea"),
    ("Subwoofer", "Audio", "ea"), ("Soundbar", "Audio", "ea"), ("Mixer", "Audio", "ea"),
    ("Earbuds", "Audio", "pcs"), ("Projector", "Video", "ea"), ("Television", "Video", "ea"),
    ("Monitor", "Video", "ea"), ("Camera", "Video", "ea"), ("Media player", "Video", "ea"),
    ("Streaming box", "Video", "ea"), ("Camcorder", "Video", "ea"), ("Screen", "Video", "ea"),
    ("Cable", "Accessory", "pcs"), ("Stand", "Accessory", "ea"), ("Tripod", "Accessory", "ea"),
    ("Charger", "Accessory", "pcs"), ("Battery pack", "Accessory", "box"),
    ("Remote control", "Accessory", "pcs"), ("Wall mount", "Accessory", "ea"),
    ("Carrying case", "Accessory", "ea"), ("Adapter", "Accessory", "pcs"),
    ("Power strip", "Accessory", "pcs"), ("Antenna", "Accessory", "ea"),
    ("Docking station", "Accessory", "ea"),
)

# (service, sales unit)
SERVICES: tuple[tuple[str, str], ...] = (
    ("Installation", "h"), ("Calibration", "h"), ("On-site support", "h"), ("Remote support", "h"),
    ("Training session", "h"), ("Consulting", "h"), ("Extended warranty 1 year", "ea"),
    ("Extended warranty 3 years", "ea"), ("Delivery and setup", "ea"), ("Cable management", "h"),
    ("Acoustic assessment", "h"), ("System design", "h"), ("Repair service", "h"),
    ("Maintenance visit", "ea"), ("Firmware update", "ea"), ("Data migration", "h"),
    ("Equipment rental day", "ea"), ("Recycling fee", "ea"), ("Express handling", "ea"),
    ("Project management", "h"),
)

# fmt: on

# --- the work-table view ------------------------------------------------------------------------------------

WordRow = tuple[str, str, str | None, str | None, str | None, str | None]
"""(word, slug, a, b, c, d): the extra columns hold a city's state, zip code, county and phone prefix, or a
product noun's item group and unit.
"""


def slug(word: str) -> str:
    """Lower-case ASCII letters and digits only, German umlauts spelled out (``Müller`` → ``mueller``), for
    e-mail and web addresses."""
    text = word.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", text)


def word_lists() -> Iterator[tuple[str, list[WordRow]]]:
    """Every list by name, as work-table rows. Per-country lists are named ``<list>:<country>``."""
    yield "org1", [(w, slug(w), None, None, None, None) for w in ORG_FIRST]
    yield "org2", [(w, slug(w), None, None, None, None) for w in ORG_SECOND]
    yield "adjective", [(w, slug(w), None, None, None, None) for w in PRODUCT_ADJECTIVES]
    yield "noun", [(w, slug(w), group, unit, None, None) for w, group, unit in PRODUCT_NOUNS]
    yield "service", [(w, slug(w), "Service", unit, None, None) for w, unit in SERVICES]
    for country in CITIES:
        yield f"suffix:{country}", [(w, slug(w), None, None, None, None) for w in LEGAL_SUFFIX[country]]
        yield f"first:{country}", [(w, slug(w), None, None, None, None) for w in FIRST_NAMES[country]]
        yield f"last:{country}", [(w, slug(w), None, None, None, None) for w in LAST_NAMES[country]]
        yield f"street:{country}", [(w, slug(w), None, None, None, None) for w in STREETS[country]]
        yield f"city:{country}", [(c, slug(c), s, z, k, p) for c, s, z, k, p in CITIES[country]]
