"""Card data never stored in full; the journal is bounded."""

from __future__ import annotations

import pytest

from emulator.core.cards import TestCards, luhn_valid, mask_pan, mask_text
from emulator.core.errors import ConfigError
from emulator.core.journal import Entry, Journal, masked_body


def test_luhn():
    assert luhn_valid("4111111111111111") and luhn_valid("5555555555554444")
    assert not luhn_valid("4111111111111112") and not luhn_valid("41111") and not luhn_valid("4111x11111111111")


def test_mask_pan_keeps_first_six_and_last_four():
    assert mask_pan("4111111111111111") == "411111******1111"
    assert mask_pan("4111 1111 1111 1111", fill="x") == "411111xxxxxx1111"


def test_mask_text_masks_pans_and_cvvs_in_any_encoding():
    text = mask_text('{"pan":"4000000000000002","cvv":"123"} CardNumber=4111111111111112;CVV2=987; ts 1764311216000')
    assert "4000000000000002" not in text and "400000******0002" in text
    assert "4111111111111112" not in text  # under a card-number key, even without a valid checksum
    assert "123" not in text and "987" not in text
    assert "1764311216000" in text  # not a card: kept


def test_test_card_table_from_yaml(tmp_path):
    path = tmp_path / "cards.yaml"
    path.write_text('- {pan: "4000000000000002", outcome: decline, brand: visa, three_ds: true}\n')
    cards = TestCards.load(path)
    assert cards.outcome("4000000000000002") == "decline"
    assert cards.outcome("4111111111111111") == "success"  # any other Luhn-valid card
    assert cards.outcome("4111111111111112") == "invalid_number"
    found = cards.find_masked("400000", "0002")
    assert found is not None and found.brand == "visa" and found.three_ds
    assert cards.find_masked("411111", "1111") is None


def test_test_card_table_rejects_unknown_fields(tmp_path):
    path = tmp_path / "cards.yaml"
    path.write_text('- {pan: "4000000000000002", result: decline}\n')
    with pytest.raises(ConfigError, match="card 0"):
        TestCards.load(path)


def _record(journal: Journal, provider: str = "p", tenant: str = "t") -> None:
    journal.record(
        Entry(
            time=0.0,
            provider=provider,
            operation="op",
            tenant=tenant,
            method="POST",
            path="/x",
            query="",
            request_headers={},
            request_body='{"pan":"4111111111111111"}',
            status=200,
            response_body="{}",
            effects=[],
        )
    )


def test_journal_is_bounded_newest_kept():
    journal = Journal(limit=3)
    for _ in range(5):
        _record(journal)
    assert [e.id for e in journal.query()] == [5, 4, 3]
    assert journal.total == 5
    assert journal.query()[0].request_body == '{"pan":"4111111111111111"}'  # as handed in: callers mask first


def test_masked_body_truncates_and_masks():
    text = masked_body('{"pan":"4111111111111111","pad":"' + "x" * 5000 + '"}')
    assert text.startswith('{"pan":"411111******1111"') and text.endswith("…") and len(text) < 4200


def test_journal_clear_by_tenant():
    journal = Journal()
    _record(journal, tenant="a")
    _record(journal, tenant="b")
    assert journal.clear(provider="p", tenant="a") == 1
    assert [e.tenant for e in journal.query()] == ["b"]
