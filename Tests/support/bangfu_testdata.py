"""Test data shared by the Python stories (Tests/browser, Tests/client)."""
import random

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def credit_code(prefix2, area):
    """A 统一社会信用代码 with a correct GB 32100-2015 check character."""
    body = prefix2 + area + "".join(random.choice("0123456789ABCDEFGH") for _ in range(9))
    total = sum(ALPHABET.index(c) * w for c, w in zip(body, WEIGHTS))
    return body + ALPHABET[(31 - total % 31) % 31]
