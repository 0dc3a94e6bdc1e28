"""Django models over corm's bookstore tables, for bench/django_bench.py."""
