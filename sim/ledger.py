"""One ledger in dollars for both sides (MODEL §7).

Every row is one transfer or loss: hour, payer, payee, category, dollars, and whether it is cash
(the attacker's expected penalty, the defender's forgone margin and legitimate users' losses are
not). Rows are appended in columnar batches; the
frame is built once at the end.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DEFENDER = "defender"

#: Category -> who pays whom, for documentation and tests. ``cash`` is False for the attacker's
#: risk line, the defender's forgone margin and what legitimate users lose (none is a payment).
CATEGORIES = {
    "accounts": "attacker -> account_vendors: usable accounts (blocked attempts included)",
    "infrastructure": "attacker -> proxy_vendors: proxies/payment/phone per account-day",
    "api_fees": "attacker -> defender (share paid in real money) or resellers: per exchange",
    "traffic_mixing": "attacker -> resellers: cost of mixing traffic with customers'",
    "expected_penalty": "attacker -> sanctions: P(attribution) × the sanctions chain's discounted "
    "expected penalty (risk)",
    "serving_cost": "defender -> compute: (1 − gross margin) × list price of every attacker "
    "exchange served, whoever paid for it",
    "detection_fixed": "defender -> detector:<name>: a running detector's fixed cost",
    "detection_inspection": "defender -> detector:<name>: inspecting its coverage of the traffic",
    "detection_latency": "defender -> detector:<name>: a faster processing latency, if bought",
    "detection_quality": "defender -> detector:<name>: quality (d′) bought with the rest",
    "review_staff": "defender -> analysts: review team pay",
    "kyc_checks": "defender -> identity_vendor: identity checks at sign-up",
    "kyc_friction": "defender -> prospective_users: margin on the lifetime revenue of sign-ups "
    "lost to friction (forgone)",
    "intel_sharing": "defender -> partners: analyst time spent on intelligence sharing",
    "false_positives": "defender -> legitimate_users: margin on the revenue lost to wrongly "
    "banned, throttled or degraded customers (forgone)",
    "support": "defender -> support_staff: support for each customer wrongly acted on",
    "reseller_collateral": "defender -> reseller_customers: customers cut off with a mixed account",
    "utility_loss": "defender -> legitimate_users: margin on the value of wrongly poisoned "
    "outputs (forgone)",
    "rate_limit_loss": "defender -> legitimate_users: margin on requests refused by rate limits "
    "(forgone)",
    "poisoning_compute": "defender -> compute: antidistillation sampling overhead",
    "watermarking": "defender -> compute: watermarking overhead",
    "user_false_actions": "legitimate_users -> lost_service: revenue-equivalent service lost to "
    "false bans, throttles and degradation (not the defender's)",
    "user_kyc_friction": "prospective_users -> lost_service: lifetime revenue of sign-ups lost to "
    "friction (not the defender's)",
    "user_rate_limits": "legitimate_users -> lost_service: refused requests at revenue",
    "user_poisoned_output": "legitimate_users -> lost_service: value of wrongly poisoned outputs",
}

#: Categories that are not payments (see ``cash``).
NON_CASH = frozenset(
    {
        "expected_penalty",
        "kyc_friction",
        "false_positives",
        "utility_loss",
        "rate_limit_loss",
        "user_false_actions",
        "user_kyc_friction",
        "user_rate_limits",
        "user_poisoned_output",
    }
)


#: Types ``book`` takes as one row without asking numpy (the common case, and a fast one).
_SCALARS = (float, int, np.float64)


def attacker(name: str) -> str:
    """Ledger party name of an operator."""
    return f"attacker:{name}"


class Ledger:
    """Columnar ledger; ``book`` appends scalars or arrays, ``frame`` builds the table once."""

    def __init__(self) -> None:
        self._parts: list[tuple] = []
        self._frame: pd.DataFrame | None = None
        self._pending = None

    def defer(self, flush) -> None:
        """Rows another writer holds (the compiled review queue's buffer): ``flush()`` books
        them, and is called before any other row is booked and before the frame is built, so
        every row keeps its place in booking order."""
        self._pending = flush

    def _settle(self) -> None:
        flush, self._pending = self._pending, None
        flush()

    def book(self, hour, payer: str, payee: str, category: str, usd) -> None:
        if self._pending is not None:
            self._settle()
        if category not in CATEGORIES:
            raise KeyError(f"unknown ledger category {category!r}")
        cash = category not in NON_CASH
        if (type(usd) in _SCALARS and type(hour) in _SCALARS) or (
            np.ndim(usd) == 0 and np.ndim(hour) == 0
        ):
            if usd != 0:
                self._parts.append((float(hour), payer, payee, category, float(usd), cash))
                self._frame = None
            return
        hour = np.atleast_1d(np.asarray(hour, dtype=float))
        usd = np.atleast_1d(np.asarray(usd, dtype=float))
        hour, usd = np.broadcast_arrays(hour, usd)
        keep = usd != 0
        if keep.any():
            self._parts.append((hour[keep], payer, payee, category, usd[keep], cash))
            self._frame = None

    def book_rows(self, hour: np.ndarray, payer: str, payee: str, category: str, usd) -> None:
        """:meth:`book` of float arrays of equal length with no zero amount, without its
        conversions (the same rows)."""
        if self._pending is not None:
            self._settle()
        if category not in CATEGORIES:
            raise KeyError(f"unknown ledger category {category!r}")
        if usd.size:
            self._parts.append(
                (hour.copy(), payer, payee, category, usd.copy(), category not in NON_CASH)
            )
            self._frame = None

    def frame(self) -> pd.DataFrame:
        """All rows, in booking order (cached until the next booking)."""
        if self._pending is not None:
            self._settle()
        if self._frame is not None:
            return self._frame
        parts = self._parts
        n = len(parts)
        # Most rows are booked one at a time (scalars): place those in one pass and copy only
        # the array parts, instead of a concatenation of thousands of one-element arrays.
        is_arr = np.fromiter((type(p[0]) is np.ndarray for p in parts), dtype=bool, count=n)
        sizes = np.ones(n, dtype=np.int64)
        arr_parts = np.flatnonzero(is_arr)
        sizes[arr_parts] = [parts[i][0].size for i in arr_parts]
        start = np.cumsum(sizes) - sizes
        total = int(sizes.sum())
        hour, usd = np.empty(total), np.empty(total)
        one = start[~is_arr]
        hour[one] = np.fromiter((p[0] for p in parts if type(p[0]) is not np.ndarray), float)
        usd[one] = np.fromiter((p[4] for p in parts if type(p[0]) is not np.ndarray), float)
        for i in arr_parts:
            a, b = start[i], start[i] + sizes[i]
            hour[a:b] = parts[i][0]
            usd[a:b] = parts[i][4]
        cols: dict[str, object] = {"hour": hour}
        for j, name in ((1, "payer"), (2, "payee"), (3, "category")):
            labels = [p[j] for p in parts]
            cats = list(dict.fromkeys(labels))
            code = {c: i for i, c in enumerate(cats)}
            codes = np.repeat(np.array([code[v] for v in labels], dtype=np.int32), sizes)
            cols[name] = pd.Categorical.from_codes(codes, categories=cats)
        cols["usd"] = usd
        cols["cash"] = np.repeat(np.array([p[5] for p in parts], dtype=bool), sizes)
        self._frame = pd.DataFrame(cols)
        return self._frame
