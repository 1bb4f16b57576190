"""The FinOps dashboard: a Streamlit app over the curated tables and the data's health.

`finops dashboard` starts it (see `cli.py`); `app.py` is the entry script, `pages/` the pages.
Data is read only through the engine, the catalog and the Dagster instance, within a `Scope`.
"""
