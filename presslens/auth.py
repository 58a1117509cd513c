"""The optional password gate: configuration and the comparison (no Streamlit here).

In:  the process environment and the app's secrets (a mapping, e.g. st.secrets), and a
     password typed by a visitor. Out: whether the gate is on, and whether a typed
     password opens it.

The gate is off by default. It is on when PRESSLENS_PASSWORD is set in the environment
(it wins) or in .streamlit/secrets.toml. Before the password is given no page shows any
number, title or text of the corpus (presslens.ui draws only the password form). The
comparison is constant-time: both sides are hashed to fixed-length digests and compared
with hmac.compare_digest, so neither the content nor the length of the password leaks
through timing. A wrong password is answered with one sentence, without detail, after a
delay that grows with repeated failures in the same session (slows guessing).

For real deployments with named users, Streamlit's built-in OIDC login (st.login) is the
second way in: see docs/SECURITY.md.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

PASSWORD_KEY = "PRESSLENS_PASSWORD"

# What a visitor is told after a wrong password: nothing about why (length, case, ...).
WRONG_PASSWORD = "Wrong password."

# Delay before answering a wrong password: 0.5 s, doubling per failure in the session up
# to 8 s. A person retyping barely notices; a script guessing gets ~8 tries a minute.
FIRST_DELAY_S = 0.5
MAX_DELAY_S = 8.0


def configured_password(environ: Mapping[str, str], secrets: Mapping | None = None) -> str | None:
    """The password that opens the app, or None when the gate is off.

    The environment variable wins over the secrets file; an empty value counts as unset
    (an empty password would open the gate for anyone and is almost surely a mistake in
    a deployment script). Non-string secrets (a TOML number) are used as their text.
    """
    value = environ.get(PASSWORD_KEY)
    if value:
        return value
    if secrets is not None:
        try:
            raw = secrets.get(PASSWORD_KEY)
        except Exception:  # st.secrets raises when no secrets file exists or it is malformed
            raw = None
        if raw is not None and str(raw) != "":
            return str(raw)
    return None


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def password_matches(given: str | None, expected: str) -> bool:
    """Constant-time check of a typed password against the configured one.

    Leading/trailing white space is significant (a password is compared as typed).
    """
    if given is None:
        return False
    return hmac.compare_digest(_digest(given), _digest(expected))


def failure_delay(failures: int) -> float:
    """Seconds to wait before answering the n-th wrong password of a session (n >= 1)."""
    if failures <= 0:
        return 0.0
    return min(MAX_DELAY_S, FIRST_DELAY_S * 2 ** (failures - 1))
