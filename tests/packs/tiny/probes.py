import numpy as np

from grader.wire import Call, Value


def requests(rng: np.random.Generator):
    xs = rng.integers(-1000, 1000, size=3)
    return [Value("answer")] + [Call("double", (int(x),), key=f"double#{i}")
                                for i, x in enumerate(xs)]
