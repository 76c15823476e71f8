"""Sections of the Streamlit app (app.py stays a thin page that wires them together)."""
