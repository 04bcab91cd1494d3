"""The secret the sentinel sweep puts in configs (see conftest.secrets_stay_secret and test_secret_sweep.py)."""

SENTINEL = "cdb-sentinel-Secret-7Kq2XwZ9"
