import pytest

from grader.feedback import as_number, fail, value_of


@pytest.mark.question("1")
def test_answer(answers, reference):
    """answer is 42"""
    value = as_number(value_of(answers["answer"]), "answer")
    if value != reference.ANSWER:
        fail(f"answer is {value:g}, not the answer.", answer=value, expected=reference.ANSWER,
             hint="Read the book again.")


@pytest.mark.question("2")
def test_double(answers, reference):
    """double(x) returns 2x"""
    for a in answers.calls("double"):
        x = a.args[0]
        got = as_number(value_of(a), f"double({x})")
        if got != reference.double(x):
            fail(f"double({x}) returned {got:g}.", inputs=(x,), answer=got,
                 expected=reference.double(x))
