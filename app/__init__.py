"""The Streamlit app: pages only; the work happens in `knowco`."""
