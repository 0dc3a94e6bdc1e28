"""Django settings for the benchmark: the bookstore file (or PostgreSQL
database) the C variants read (BENCH_DB), no migrations (every model is managed=False), DEBUG off
so Django keeps no query log.  Nothing here touches the network."""
import os

SECRET_KEY = "corm-bench"
DEBUG = False
USE_TZ = False
INSTALLED_APPS = ["djbench"]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("BENCH_DB", "bench.db"),
    }
}

# On PostgreSQL BENCH_DB is one of corm's urls: postgresql://... or the
# keyword form postgresql:host=... dbname=... (what corm-bench pg-url
# prints).  libpq's own parser (psycopg2's parse_dsn) splits it into
# Django's fields; the rest (sslmode, ...) goes to OPTIONS as it is.
_url = DATABASES["default"]["NAME"]
if _url.startswith(("postgresql:", "postgres:")):
    from psycopg2.extensions import parse_dsn

    _dsn = parse_dsn(_url if _url.startswith(("postgresql://", "postgres://"))
                     else _url.split(":", 1)[1])
    DATABASES["default"] = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _dsn.pop("dbname", ""),
        "USER": _dsn.pop("user", ""),
        "PASSWORD": _dsn.pop("password", ""),
        "HOST": _dsn.pop("host", ""),
        "PORT": _dsn.pop("port", ""),
        "OPTIONS": _dsn,
    }
    TIME_ZONE = "UTC"  # the session's TimeZone, as corm sets it
