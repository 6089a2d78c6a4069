"""Complaint codes: digits a caller can key, random, and a check digit that catches slips."""

from hypothesis import given, strategies as st

from domain.complaints.codes import LENGTH, clean, is_valid, new_code, spaced


def test_a_new_code_is_ten_digits_that_pass_their_own_check():
    code = new_code()
    assert len(code) == LENGTH and code.isdigit() and code[0] != "0"
    assert is_valid(code)


def test_codes_are_random_not_sequential():
    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000
    numbers = sorted(int(code[:-1]) for code in codes)
    gaps = {b - a for a, b in zip(numbers, numbers[1:], strict=False)}
    assert len(gaps) > 1000  # no step to guess the next one from


@given(st.integers(min_value=0, max_value=LENGTH - 1), st.integers(min_value=1, max_value=9))
def test_any_one_mistyped_digit_is_caught(position, shift):
    code = new_code()
    wrong = code[:position] + str((int(code[position]) + shift) % 10) + code[position + 1 :]
    assert not is_valid(wrong)


@given(st.integers(min_value=0, max_value=LENGTH - 2))
def test_any_two_swapped_neighbours_are_caught(position):
    code = new_code()
    swapped = code[:position] + code[position + 1] + code[position] + code[position + 2 :]
    assert swapped == code or not is_valid(swapped)


@given(st.text(max_size=30))
def test_anything_else_is_not_a_code_and_never_raises(text):
    if not (len(text) == LENGTH and text.isascii() and text.isdigit()):
        assert not is_valid(text)


def test_what_people_type_is_cleaned_and_written_back_spaced():
    code = new_code()
    assert clean(f" {code[:3]}-{code[3:6]} {code[6:]} ") == code
    assert clean(None) == ""
    assert clean("١٢٣") == ""  # Arabic-Indic digits are not keyed on a phone
    assert spaced(code).replace(" ", "") == code
