"""Downloads of the articles in view."""
from __future__ import annotations

import io

import streamlit as st

from presslens import query
from presslens.ui.data import data



def exports() -> None:
    df = data("export")
    c1, c2 = st.columns(2)
    c1.download_button("Download CSV", query.flatten_lists(df).write_csv().encode("utf-8"), file_name="presslens-articles.csv",
                       mime="text/csv", icon=":material/download:", on_click="ignore", key="dl-csv")
    buf = io.BytesIO()
    df.write_parquet(buf)
    c2.download_button("Download Parquet", buf.getvalue(), file_name="presslens-articles.parquet",
                       mime="application/vnd.apache.parquet", icon=":material/download:", on_click="ignore", key="dl-parquet")
