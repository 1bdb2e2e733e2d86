"""The gateway seam's own rules: minor units ↔ the provider's decimal amounts (never a
float), what a checkout must carry, and fresh transaction references."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from portal.billing.gateway import (
    CheckoutRequest,
    Customer,
    PaymentNotConfirmed,
    PaymentStatus,
    Verification,
    confirm_payment,
    currency_exponent,
    new_tx_ref,
    to_decimal,
    to_minor,
)


@pytest.mark.parametrize(("currency", "exponent"), [("NGN", 2), ("GTQ", 2), ("ngn", 2), ("UGX", 0), ("KWD", 3)])
def test_currency_exponent(currency, exponent):
    assert currency_exponent(currency) == exponent


@pytest.mark.parametrize("currency", ["", "ZZZ", "NAIRA"])
def test_an_unknown_currency_is_refused(currency):
    with pytest.raises(ValueError):
        currency_exponent(currency)


@pytest.mark.parametrize(("minor", "currency", "decimal"), [
    (500050, "NGN", "5000.50"), (1, "NGN", "0.01"), (0, "GTQ", "0.00"), (5000, "UGX", "5000"), (1, "KWD", "0.001"),
    (-250, "NGN", "-2.50"), (10**15 + 1, "NGN", "10000000000000.01"),
])
def test_minor_units_and_decimals_round_trip_exactly(minor, currency, decimal):
    assert str(to_decimal(minor, currency)) == decimal
    assert to_minor(Decimal(decimal), currency) == minor
    assert to_minor(decimal, currency) == minor


@pytest.mark.parametrize(("amount", "minor"), [(5000, 500000), (Decimal("5000.5"), 500050), (" 12.30 ", 1230),
                                               (Decimal("1E+3"), 100000)])
def test_a_provider_s_amount_becomes_minor_units(amount, minor):
    assert to_minor(amount, "NGN") == minor


@pytest.mark.parametrize("amount", [5000.5, 1e3, True])
def test_floats_are_refused(amount):
    with pytest.raises(TypeError):
        to_minor(amount, "NGN")
    with pytest.raises(TypeError):
        to_decimal(amount, "NGN")


@pytest.mark.parametrize("amount", ["5000.555", Decimal("0.001"), "NaN", "Infinity", "five", ""])
def test_amounts_finer_than_the_minor_unit_or_not_numbers_are_refused(amount):
    with pytest.raises(ValueError):
        to_minor(amount, "NGN")


def test_a_checkout_carries_a_positive_integer_amount_and_a_reference():
    customer = Customer(email="resident@greenpark.test")
    base = dict(tx_ref="GH-1", amount_minor=100, currency="NGN", redirect_url="https://x/r", customer=customer, title="E")
    CheckoutRequest(**base)
    for bad, error in [({"amount_minor": 100.0}, TypeError), ({"amount_minor": True}, TypeError),
                       ({"amount_minor": 0}, ValueError), ({"amount_minor": -5}, ValueError), ({"tx_ref": ""}, ValueError)]:
        with pytest.raises(error):
            CheckoutRequest(**{**base, **bad})


def test_new_tx_refs_are_unique_and_plain():
    refs = {new_tx_ref("greenpark") for _ in range(1000)}
    assert len(refs) == 1000
    assert all(re.fullmatch(r"GREENPARK-[0-9a-f]{20}", ref) for ref in refs)
    assert re.fullmatch(r"LAS-FLORES-[0-9a-f]{20}", new_tx_ref("las flores!"))
    assert new_tx_ref("").startswith("GH-") and new_tx_ref("***").startswith("GH-")


def test_confirm_payment_checks_every_part():
    good = Verification(PaymentStatus.SUCCESSFUL, 500000, "NGN", "GH-1", "7000001")
    assert confirm_payment(good, tx_ref="GH-1", currency="ngn", amount_minor=500000) == 500000
    for verification, reason in [
        (Verification(PaymentStatus.PENDING, 500000, "NGN", "GH-1", "1"), "status"),
        (Verification(PaymentStatus.CANCELLED, 500000, "NGN", "GH-1", "1"), "status"),
        (Verification(PaymentStatus.SUCCESSFUL, 500000, "NGN", "GH-2", "1"), "tx_ref"),
        (Verification(PaymentStatus.SUCCESSFUL, 500000, "GTQ", "GH-1", "1"), "currency"),
        (Verification(PaymentStatus.SUCCESSFUL, 499999, "NGN", "GH-1", "1"), "amount"),
    ]:
        with pytest.raises(PaymentNotConfirmed) as refused:
            confirm_payment(verification, tx_ref="GH-1", currency="NGN", amount_minor=500000)
        assert refused.value.reason == reason
