"""The KnowCo-Tuning model on plain dataclasses: no SQL, no Streamlit (see ../shared/METHOD.md)."""
