"""Django settings for the benchmark: the bookstore file the C variants
read (BENCH_DB), no migrations (every model is managed=False), DEBUG off
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
