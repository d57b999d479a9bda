"""Fixed word lists the world is drawn from. Tuples, never sets: their order feeds the random draws."""

from __future__ import annotations

VENDOR_NAME = "Forgeflow"
VENDOR_DOMAIN = "forgeflow.dev"
VENDOR_GITHUB_ORG = "forgeflow"
NPM_PACKAGES = ("@forgeflow/sdk", "forgeflow-cli")
PYPI_PACKAGES = ("forgeflow", "forgeflow-airflow")
GITHUB_REPOS = ("forgeflow/forgeflow", "forgeflow/forgeflow-python", "forgeflow/examples")

# Company names: "<first> <second>" or an invented brand built from syllables.
NAME_FIRST = (
    "Acme", "Northwind", "Bluefin", "Cobalt", "Quantum", "Helix", "Nimbus", "Vertex", "Lumen", "Orbit",
    "Pioneer", "Summit", "Beacon", "Crimson", "Atlas", "Nova", "Zenith", "Aurora", "Cascade", "Falcon",
    "Harbor", "Ironclad", "Juniper", "Kestrel", "Lattice", "Maple", "Nebula", "Oakridge", "Pinnacle", "Quartz",
    "Redwood", "Sapphire", "Tidal", "Umbra", "Vanguard", "Willow", "Xenon", "Zephyr", "Amber", "Basalt",
    "Cedar", "Delta", "Ember", "Fjord", "Granite", "Horizon", "Indigo", "Jade", "Keystone", "Lunar",
    "Meridian", "Northstar", "Onyx", "Polar", "Radiant", "Sierra", "Titan", "Velvet", "Axiom", "Bright",
    "Clearwater", "Deepwell", "Echo", "Flux", "Glow", "Hyper", "Insight", "Kinetic", "Logic", "Magnet",
    "Neon", "Omni", "Prism", "Rapid", "Signal", "Terra", "Unity", "Vivid", "Wired", "Blue",
    "Green", "Silver", "Golden", "Swift", "Bold", "Open", "Core", "Smart", "Pixel", "Byte",
    "Copper", "Harvest", "Lighthouse", "Mosaic", "Pacific", "Riverbend", "Starling", "Thunder", "Union", "Wildcard",
)
NAME_SECOND = (
    "Labs", "Systems", "Software", "Technologies", "Cloud", "Data", "AI", "Analytics", "Works", "Digital",
    "Networks", "Logic", "Ware", "Stack", "Base", "Hub", "Ops", "Scale", "Pay", "Health",
    "Bank", "Commerce", "Security", "Robotics", "Learning", "Media", "Games", "Logistics", "Energy", "Bio",
    "Mobility", "Finance", "Insights", "Dynamics", "Solutions", "Platforms", "Metrics", "Mail", "Studio", "Markets",
)
BRAND_ONSETS = ("b", "br", "c", "cl", "d", "f", "fl", "g", "gr", "h", "k", "l", "m", "n", "p", "pl", "qu",
                "r", "s", "st", "t", "tr", "v", "w", "z")
BRAND_VOWELS = ("a", "e", "i", "o", "u", "ai", "ea", "io", "y")
BRAND_ENDINGS = ("x", "ly", "io", "ra", "on", "ix", "um", "ia", "er", "a", "o", "ify", "hub", "ex")
LEGAL_SUFFIXES = (" Inc.", ", Inc.", " Inc", " LLC", " Ltd", " GmbH", " Corp.", " Co.")

TLDS = ("com", "io", "dev", "ai", "co", "tech", "app", "cloud")
TLD_WEIGHTS = (0.52, 0.2, 0.07, 0.08, 0.05, 0.03, 0.03, 0.02)

# Size bands follow the seed's employee thresholds (≤10, ≤50, ≤500, ≤1000, more).
SIZES = ("STARTUP", "SMALL", "MEDIUM", "LARGE", "ENTERPRISE")
SIZE_WEIGHTS = (0.3, 0.3, 0.24, 0.09, 0.07)
SIZE_EMPLOYEES = ((2, 10), (11, 50), (51, 500), (501, 1000), (1001, 40000))

# HubSpot industry labels (what a HubSpot export shows) and the Salesforce picklist value for each.
INDUSTRIES = (
    ("Computer Software", "Technology"),
    ("Information Technology and Services", "Technology"),
    ("Internet", "Technology"),
    ("Financial Services", "Finance"),
    ("Banking", "Banking"),
    ("Hospital & Health Care", "Healthcare"),
    ("Retail", "Retail"),
    ("Marketing and Advertising", "Media"),
    ("Telecommunications", "Communications"),
    ("E-Learning", "Education"),
    ("Logistics and Supply Chain", "Transportation"),
    ("Insurance", "Insurance"),
    ("Computer Games", "Entertainment"),
    ("Biotechnology", "Biotechnology"),
    ("Renewables & Environment", "Energy"),
    ("Media Production", "Media"),
)
INDUSTRY_WEIGHTS = (0.24, 0.14, 0.1, 0.08, 0.03, 0.05, 0.05, 0.05, 0.03, 0.04, 0.04, 0.03, 0.04, 0.03, 0.03, 0.02)

# (city, country, UTC offset in hours): the offset shifts when a company's people are active.
CITIES = (
    ("San Francisco", "United States", -8), ("New York", "United States", -5), ("Austin", "United States", -6),
    ("Seattle", "United States", -8), ("Boston", "United States", -5), ("Chicago", "United States", -6),
    ("Denver", "United States", -7), ("Toronto", "Canada", -5), ("Vancouver", "Canada", -8),
    ("London", "United Kingdom", 0), ("Manchester", "United Kingdom", 0), ("Dublin", "Ireland", 0),
    ("Berlin", "Germany", 1), ("Munich", "Germany", 1), ("Paris", "France", 1), ("Amsterdam", "Netherlands", 1),
    ("Stockholm", "Sweden", 1), ("Warsaw", "Poland", 1), ("Madrid", "Spain", 1), ("Zurich", "Switzerland", 1),
    ("Tel Aviv", "Israel", 2), ("Bangalore", "India", 5.5), ("Pune", "India", 5.5), ("Singapore", "Singapore", 8),
    ("Sydney", "Australia", 10), ("Tokyo", "Japan", 9), ("São Paulo", "Brazil", -3), ("Mexico City", "Mexico", -6),
)

FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
    "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Chris", "Karen",
    "Daniel", "Lisa", "Matthew", "Nancy", "Anthony", "Sandra", "Mark", "Ashley", "Steven", "Emily",
    "Andrew", "Michelle", "Paul", "Amanda", "Joshua", "Melissa", "Kevin", "Stephanie", "Brian", "Rebecca",
    "George", "Laura", "Timothy", "Helen", "Jason", "Anna", "Ryan", "Emma", "Jacob", "Olivia",
    "Gary", "Sophia", "Eric", "Isabella", "Jonathan", "Mia", "Justin", "Charlotte", "Scott", "Amelia",
    "Brandon", "Harper", "Benjamin", "Evelyn", "Samuel", "Abigail", "Alexander", "Ella", "Patrick", "Grace",
    "Wei", "Li", "Yuki", "Hiroshi", "Priya", "Arjun", "Rahul", "Ananya", "Vikram", "Deepa",
    "Mohammed", "Fatima", "Omar", "Aisha", "Ahmed", "Layla", "Carlos", "Sofía", "Miguel", "Lucía",
    "José", "María", "Juan", "Camila", "Diego", "Valentina", "Luca", "Giulia", "Matteo", "Chiara",
    "Lukas", "Lena", "Jonas", "Hannah", "Felix", "Lea", "Søren", "Ingrid", "Lars", "Astrid",
    "Pierre", "Chloé", "Louis", "Manon", "Hugo", "Camille", "Ivan", "Olga", "Dmitri", "Natasha",
    "Kwame", "Amara", "Chidi", "Ngozi", "Tunde", "Zainab", "Thanh", "Linh", "Minh", "Hoa",
    "Seo-yeon", "Ji-woo", "Min-jun", "Noah", "Liam", "Ethan", "Zoë", "Chen", "Mei", "Ravi",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
    "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
    "O'Brien", "O'Connor", "McCarthy", "MacDonald", "van der Berg", "de Vries", "van Dijk", "Jansen", "Bakker",
    "Visser",
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
    "Dubois", "Moreau", "Laurent", "Lefèvre", "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano",
    "Kowalski", "Nowak", "Wiśniewski", "Novák", "Ivanov", "Petrov", "Sokolov", "Andersson", "Johansson", "Karlsson",
    "Nielsen", "Hansen", "Larsen", "Virtanen", "Korhonen", "Yamamoto", "Tanaka", "Suzuki", "Watanabe", "Sato",
    "Kim", "Park", "Choi", "Wang", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao",
    "Patel", "Sharma", "Singh", "Kumar", "Gupta", "Iyer", "Reddy", "Nair", "Das", "Mehta",
    "Okafor", "Adeyemi", "Mensah", "Owusu", "Abubakar", "Haddad", "Khalil", "Nasser", "Cohen", "Levi",
    "Silva", "Santos", "Oliveira", "Souza", "Pereira", "Costa", "Almeida", "Fernandes", "Gomes", "Ribeiro",
    "Murphy", "Kelly", "Walsh", "Byrne", "Ryan", "Brennan", "Fitzgerald", "Doyle", "Quinn", "Lynch",
)

# Titles with a draw weight. Seniors (VP, Director, Head of, CTO, Founder, Chief) are a minority; the
# "tricky" ones trip a substring seniority test: "Headless" contains "head", "Directory" contains "director",
# "Vice President" has no "vp".
TITLES = (
    ("Software Engineer", 14), ("Senior Software Engineer", 12), ("Staff Engineer", 4), ("Principal Engineer", 2),
    ("Backend Engineer", 6), ("Frontend Engineer", 5), ("Full Stack Developer", 6), ("DevOps Engineer", 5),
    ("Site Reliability Engineer", 3), ("Platform Engineer", 4), ("Data Engineer", 5), ("ML Engineer", 3),
    ("Engineering Manager", 4), ("Tech Lead", 4), ("Developer Advocate", 1), ("Product Manager", 3),
    ("QA Engineer", 2), ("Security Engineer", 2), ("Solutions Architect", 2), ("Software Developer", 5),
    ("Sr. Software Engineer", 2), ("Mobile Engineer", 2), ("Data Scientist", 2),
    ("VP Engineering", 1.2), ("VP of Platform", 0.5), ("Director of Engineering", 1.2),
    ("Director, Data Platform", 0.5),
    ("Head of Platform", 0.8), ("Head of Data", 0.6), ("Head of Developer Experience", 0.4), ("CTO", 1.2),
    ("Co-founder & CTO", 0.6), ("Founder", 0.4), ("Founder & CEO", 0.4), ("CEO", 0.4), ("Chief Architect", 0.4),
    ("Headless CMS Engineer", 0.6), ("Directory Services Engineer", 0.4), ("Vice President, Engineering", 0.4),
    ("Overhead Systems Analyst", 0.2),
)
SENIOR_TITLE_WORDS = ("vp", "director", "head of", "cto", "ceo", "founder", "chief", "president")

FREE_MAIL_DOMAINS = ("gmail.com", "outlook.com", "hotmail.com", "yahoo.com", "proton.me", "icloud.com",
                     "protonmail.com", "fastmail.com", "hey.com", "pm.me")
FREE_MAIL_WEIGHTS = (0.52, 0.1, 0.05, 0.05, 0.08, 0.08, 0.04, 0.03, 0.02, 0.03)

# Real GitHub bot accounts and ids, as the API returns them.
GITHUB_BOTS = (("dependabot[bot]", 49699333), ("renovate[bot]", 29139614), ("github-actions[bot]", 41898282))
TEST_ACCOUNT_EMAILS = ("test@example.com", "qa.test@example.com", "test@forgeflow-staging.com",
                       "Test.User@example.com", "test+signup@gmail.com")

_WEBKIT = "AppleWebKit/537.36 (KHTML, like Gecko)"
BROWSER_USER_AGENTS = (
    f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) {_WEBKIT} Chrome/124.0.0.0 Safari/537.36",
    f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) {_WEBKIT} Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 "
    "Safari/605.1.15",
    f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) {_WEBKIT} Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80",
    f"Mozilla/5.0 (X11; Linux x86_64) {_WEBKIT} Chrome/123.0.0.0 Safari/537.36",
)
SDK_USER_AGENTS = ("forgeflow-sdk-js/2.4.1 node/20.12.2 linux-x64", "forgeflow-python/1.6.0 CPython/3.12.3 Linux",
                   "forgeflow-cli/1.9.2 node/18.20.2 darwin-arm64")
CI_USER_AGENTS = ("GitHub-Actions", "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)", "python-requests/2.31.0",
                  "GitLab-Runner 16.10.0 (16-10-stable; go1.21.9; linux/amd64)", "curl/8.5.0")

# The product's event vocabulary: (event, base weight, P(in a person's repertoire) at intent 0, at intent 1).
TRACK_EVENTS = (
    ("API Call", 0.38, 1.0, 1.0),
    ("Feature Used", 0.12, 0.45, 1.0),
    ("Viewed Docs", 0.06, 0.4, 0.85),
    ("Ran Pipeline", 0.1, 0.25, 0.95),
    ("Created Project", 0.03, 0.25, 0.9),
    ("Connected Integration", 0.02, 0.08, 0.8),
    ("Invited Teammate", 0.012, 0.03, 0.85),
    ("Viewed Pricing", 0.02, 0.08, 0.75),
    ("Started Trial", 0.004, 0.0, 0.5),
)
PAGE_WEIGHT = 0.25  # share of a signed-up person's calls that are page views
FEATURES = ("pipelines", "webhooks", "cli", "sdk", "dashboards", "alerts", "sso", "audit-log", "secrets", "caching")
API_ENDPOINTS = (("/v1/runs", "POST"), ("/v1/runs", "GET"), ("/v1/pipelines", "GET"), ("/v1/pipelines", "POST"),
                 ("/v1/artifacts", "PUT"), ("/v1/projects", "GET"), ("/v1/secrets", "GET"), ("/v1/webhooks", "POST"))
API_STATUSES = (200, 200, 200, 201, 200, 204, 400, 401, 404, 429, 500)
INTEGRATIONS = ("github", "gitlab", "slack", "snowflake", "datadog", "pagerduty", "s3", "bigquery")
PLANS = ("team", "business", "enterprise")
PROJECT_TEMPLATES = ("nextjs", "fastapi", "monorepo", "data-pipeline", "blank", "django", "rails")
DOCS_SECTIONS = ("quickstart", "concepts", "cli-reference", "sdk-js", "sdk-python", "self-hosting", "security")
PAGES = (  # (page name, path, title)
    ("Home", "/", "Forgeflow – pipelines for developers"),
    ("Docs", "/docs/getting-started", "Getting started – Forgeflow Docs"),
    ("Docs", "/docs/sdk/javascript", "JavaScript SDK – Forgeflow Docs"),
    ("Docs", "/docs/sdk/python", "Python SDK – Forgeflow Docs"),
    ("Docs", "/docs/cli", "CLI – Forgeflow Docs"),
    ("Pricing", "/pricing", "Pricing – Forgeflow"),
    ("Blog", "/blog/faster-builds-with-remote-caching", "Faster builds with remote caching"),
    ("Changelog", "/changelog", "Changelog – Forgeflow"),
    ("Dashboard", "/app/dashboard", "Dashboard – Forgeflow"),
    ("Pipelines", "/app/pipelines", "Pipelines – Forgeflow"),
    ("Settings", "/app/settings/team", "Team settings – Forgeflow"),
    ("Billing", "/app/settings/billing", "Billing – Forgeflow"),
)
ANONYMOUS_PAGES = 8  # the first pages (public site and docs) are the ones seen before signing up

ISSUE_TITLES = (
    "{thing} fails with ECONNRESET behind a proxy", "Support for {thing} in the Python SDK",
    "Docs: {thing} example is outdated", "{thing}: timeout is not configurable",
    "Feature request: {thing}", "Crash when {thing} is empty", "Add retries to {thing}",
    "TypeError in {thing} on Node 18", "{thing} ignores the \"region\" option",
    "Question: how do I use {thing}, with SSO?",
)
PR_TITLES = (
    "Fix {thing} on Windows", "Add {thing} option", "docs: clarify {thing}", "chore: bump {thing}",
    "feat: {thing} support", "Refactor {thing}", "test: cover {thing}",
)
ISSUE_THINGS = ("remote cache", "pipeline runner", "webhook signing", "CLI login", "artifact upload", "secrets sync",
                "retry policy", "monorepo detection", "Docker builds", "the GitHub integration", "run logs")
DEPENDENCIES = ("typescript", "eslint", "undici", "zod", "vitest", "esbuild", "pytest", "ruff", "httpx", "pydantic")
