"""Realistic wrong answers to exercise 8, graded by tests/test_exercises.py.

Each entry takes the solution notebook, replaces the code cell that defines ``replaces`` with
``source``, and expects question ``question`` to score at most ``max_points`` (default 0) and
its feedback to contain ``feedback``.
"""

_VALIDATION = '''
    in_features = linear.in_features
    if n_heads <= 0 or in_features % n_heads:
        raise ValueError(f"n_heads={n_heads} does not divide in_features={in_features}")
    if not 0 <= head < n_heads:
        raise ValueError(f"head must be in 0..{n_heads - 1}, got {head}")
    d_head = in_features // n_heads
'''

WRONG_ANSWERS = [
    {
        "question": "q1",
        "what": "picks (a), the correct ablation, not what the seed's code does",
        "replaces": "answer_q1",
        "source": 'answer_q1 = "a"',
        "feedback": "A alternativa 'a' não está correta",
    },
    {
        "question": "q2",
        "what": "counts blocks of d_head rows for both heads in every layer",
        "replaces": "n_zeroed_seed",
        "source": "n_zeroed_seed = 12 * 2 * 64 * 768\nn_zeroed_correct = 2 * 64 * 768",
        "max_points": 1,
        "feedback": "o esperado é 7077888",
    },
    {
        "question": "q3",
        "what": "zeroes rows instead of columns",
        "replaces": "ablate_head_",
        "source": "def ablate_head_(linear, head, n_heads):" + _VALIDATION
        + "    with torch.no_grad():\n"
          "        linear.weight[head * d_head:(head + 1) * d_head] = 0\n",
        "feedback": "Você zerou as linhas",
    },
    {
        "question": "q3",
        "what": "off-by-one block (the next head's columns)",
        "replaces": "ablate_head_",
        "source": "def ablate_head_(linear, head, n_heads):" + _VALIDATION
        + "    with torch.no_grad():\n"
          "        linear.weight[:, (head + 1) * d_head:(head + 2) * d_head] = 0\n",
        "feedback": "Erro de um bloco",
    },
    {
        "question": "q3",
        "what": "writes in place outside torch.no_grad()",
        "replaces": "ablate_head_",
        "source": "def ablate_head_(linear, head, n_heads):" + _VALIDATION
        + "    linear.weight[:, head * d_head:(head + 1) * d_head] = 0\n",
        "feedback": "levantou RuntimeError",
    },
    {
        "question": "q4",
        "what": "keeps a reference to the weights instead of a copy",
        "replaces": "head_ablated",
        "source": (
            "from contextlib import contextmanager\n\n\n"
            "@contextmanager\n"
            "def head_ablated(linear, head, n_heads):\n"
            "    saved = linear.weight.data\n"
            "    try:\n"
            "        ablate_head_(linear, head, n_heads)\n"
            "        yield linear\n"
            "    finally:\n"
            "        with torch.no_grad():\n"
            "            linear.weight.copy_(saved)\n"
        ),
        "feedback": "os pesos não voltaram ao original",
    },
    {
        "question": "q4",
        "what": "restores only on a normal exit (no try/finally)",
        "replaces": "head_ablated",
        "source": (
            "from contextlib import contextmanager\n\n\n"
            "@contextmanager\n"
            "def head_ablated(linear, head, n_heads):\n"
            "    saved = linear.weight.detach().clone()\n"
            "    ablate_head_(linear, head, n_heads)\n"
            "    yield linear\n"
            "    with torch.no_grad():\n"
            "        linear.weight.copy_(saved)\n"
        ),
        "max_points": 2,
        "feedback": "Depois de um erro dentro do bloco",
    },
    {
        "question": "q4",
        "what": "restores by replacing the Parameter instead of copying into it",
        "replaces": "head_ablated",
        "source": (
            "from contextlib import contextmanager\n\n\n"
            "@contextmanager\n"
            "def head_ablated(linear, head, n_heads):\n"
            "    saved = linear.weight.detach().clone()\n"
            "    try:\n"
            "        ablate_head_(linear, head, n_heads)\n"
            "        yield linear\n"
            "    finally:\n"
            "        linear.weight = nn.Parameter(saved)\n"
        ),
        "feedback": "é outro tensor",
    },
]
