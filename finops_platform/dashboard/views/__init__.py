"""The dashboard pages: scripts that `app.py` registers with st.navigation (not `pages/`,
which would switch Streamlit to its older directory-based multipage mode)."""
