"""The password gate in the page (see presslens.auth for the rules and the comparison).

`locked()` -> True while a password is configured and this session has not given it.
`password_page()` draws only the password form (no number, title or text of the corpus)
and stops the run; `stop_if_locked()` stops a run that reached the data without the gate
(a page script run on its own), drawing nothing.
"""
from __future__ import annotations

import os
import time

import streamlit as st

from presslens import auth

_OPEN = "_presslens_password_ok"
_FAILURES = "_presslens_password_failures"


def _secrets():
    """st.secrets when a secrets.toml exists, else None (reading it otherwise raises)."""
    try:
        return st.secrets if st.secrets.load_if_toml_exists() else None
    except Exception:  # a malformed secrets.toml: Streamlit logs it; the environment still counts
        return None


def locked() -> bool:
    expected = auth.configured_password(os.environ, _secrets())
    return expected is not None and not st.session_state.get(_OPEN, False)


def _check(key: str) -> None:
    expected = auth.configured_password(os.environ, _secrets())
    given = st.session_state.get(key)
    if expected is not None and auth.password_matches(given, expected):
        st.session_state[_OPEN] = True
        st.session_state.pop(_FAILURES, None)
        return
    failures = st.session_state.get(_FAILURES, 0) + 1
    st.session_state[_FAILURES] = failures
    time.sleep(auth.failure_delay(failures))


def password_page() -> None:
    """The only thing a locked session sees: a password field. Stops the run."""
    st.markdown("### 📰 presslens")
    with st.form("password-gate", clear_on_submit=True, enter_to_submit=True):
        st.text_input("Password", type="password", key="password-gate-input")
        st.form_submit_button("Open", type="primary", on_click=_check, args=("password-gate-input",))
    if st.session_state.get(_FAILURES):
        st.error(auth.WRONG_PASSWORD)
    st.stop()


def stop_if_locked() -> None:
    if locked():
        st.stop()
