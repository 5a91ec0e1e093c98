"""Realistic wrong answers to exercise 4, graded by tests/test_exercises.py.

Each entry takes the solution notebook, replaces the code cell that defines ``replaces`` with
``source``, and expects question ``question`` to score at most ``max_points`` (default 0) and
its feedback to contain ``feedback``.
"""


def _top(count: str, order: str = "scores.flatten().argsort(descending=True)") -> str:
    return (
        "import math\n\n\n"
        "def top_heads_by_fraction(scores, fraction):\n"
        "    if not 0 < fraction <= 1:\n"
        "        raise ValueError('fraction must be in (0, 1]')\n"
        "    n_layers, n_heads = scores.shape\n"
        f"    k = {count}\n"
        f"    order = {order}[:k]\n"
        "    return [(int(i) // n_heads, int(i) % n_heads) for i in order]\n"
    )


def _control(body: str) -> str:
    return "def random_heads_like_manual(heads, n_layers, n_heads, seed=0):\n" + body


WRONG_ANSWERS = [
    {
        "question": "q1",
        "what": "rounds down (int), so 1% of 8 heads is zero heads",
        "replaces": "top_heads_by_fraction",
        "source": _top("int(fraction * n_layers * n_heads)"),
        "feedback": "Você selecionou zero cabeças",
    },
    {
        "question": "q1",
        "what": "sorts in ascending order (the worst heads)",
        "replaces": "top_heads_by_fraction",
        "source": _top("max(1, math.floor(fraction * n_layers * n_heads + 0.5))", "scores.flatten().argsort()"),
        "feedback": "MENOR pontuação",
    },
    {
        "question": "q1",
        "what": "rounds up (ceil)",
        "replaces": "top_heads_by_fraction",
        "source": _top("max(1, math.ceil(fraction * n_layers * n_heads))"),
        "max_points": 1,
        "feedback": "para cima",
    },
    {
        "question": "q1",
        "what": "Python's round (halves to even)",
        "replaces": "top_heads_by_fraction",
        "source": _top("max(1, round(fraction * n_layers * n_heads))"),
        "max_points": 2,
        "feedback": "arredonda meios para o par",
    },
    {
        "question": "q2",
        "what": "builds the short probe with 25 tokens per copy",
        "replaces": "topo",
        "source": (
            "sondas = {\n"
            "    'olsson': sonda,\n"
            "    'curta': repeated_tokens(tok, seq_len=25, n_repeats=2, batch=10, seed=0),\n"
            "    'texto': toy_language_text(batch=10),\n"
            "}\n"
            "por_sonda = {nome: prefix_matching_scores(model, tokens) for nome, tokens in sondas.items()}\n"
            "melhor = top_heads_by_fraction(por_sonda['olsson'], 1 / 8)[0]\n"
            "topo = {nome: top_heads_by_fraction(s, 2 / 8) for nome, s in por_sonda.items()}\n"
            "pm_cabeca = {nome: float(s[melhor]) for nome, s in por_sonda.items()}\n"
        ),
        "max_points": 1,
        "feedback": 'pm_cabeca["curta"]',
    },
    {
        "question": "q3",
        "what": "takes the mean over the measured sequences themselves",
        "replaces": "perda_limpa",
        "source": (
            "cabecas = topo['olsson']\n"
            "referencia = repeated_tokens(tok, seq_len=25, n_repeats=4, batch=10, seed=1)\n"
            "perda_limpa = repeat_loss(model, sonda, 25)\n"
            "with ablate_heads(model, cabecas, method='zero'):\n"
            "    perda_zero = repeat_loss(model, sonda, 25)\n"
            "with ablate_heads(model, cabecas, method='mean', reference=sonda):\n"
            "    perda_media = repeat_loss(model, sonda, 25)\n"
        ),
        "max_points": 1,
        "feedback": "não a própria sonda",
    },
    {
        "question": "q4",
        "what": "draws from every head of the model, ignoring the layers",
        "replaces": "random_heads_like_manual",
        "source": _control(
            "    rng = random.Random(seed)\n"
            "    chosen = set(heads)\n"
            "    free = [(l, h) for l in range(n_layers) for h in range(n_heads) if (l, h) not in chosen]\n"
            "    if len(free) < len(chosen):\n"
            "        raise ValueError('too few heads')\n"
            "    return rng.sample(free, len(chosen))\n"
        ),
        "feedback": "cabeças por camada",
    },
    {
        "question": "q4",
        "what": "does not exclude the chosen heads",
        "replaces": "random_heads_like_manual",
        "source": _control(
            "    rng = random.Random(seed)\n"
            "    control = []\n"
            "    for layer in range(n_layers):\n"
            "        count = sum(1 for l, _ in heads if l == layer)\n"
            "        if count > n_heads:\n"
            "            raise ValueError('too few heads')\n"
            "        control += [(layer, h) for h in rng.sample(range(n_heads), count)]\n"
            "    return control\n"
        ),
        "feedback": "já estão entre as escolhidas",
    },
    {
        "question": "q4",
        "what": "always takes the first free heads (not random)",
        "replaces": "random_heads_like_manual",
        "source": _control(
            "    chosen = set(heads)\n"
            "    control = []\n"
            "    for layer in range(n_layers):\n"
            "        count = sum(1 for l, _ in chosen if l == layer)\n"
            "        free = [h for h in range(n_heads) if (layer, h) not in chosen]\n"
            "        if len(free) < count:\n"
            "            raise ValueError('too few heads')\n"
            "        control += [(layer, h) for h in free[:count]]\n"
            "    return control\n"
        ),
        "feedback": "deve ser sorteado",
    },
    {
        "question": "q4",
        "what": "uses the global random generator, ignoring the seed",
        "replaces": "random_heads_like_manual",
        "source": _control(
            "    chosen = set(heads)\n"
            "    control = []\n"
            "    for layer in range(n_layers):\n"
            "        count = sum(1 for l, _ in chosen if l == layer)\n"
            "        free = [h for h in range(n_heads) if (layer, h) not in chosen]\n"
            "        if len(free) < count:\n"
            "            raise ValueError('too few heads')\n"
            "        control += [(layer, h) for h in random.sample(free, count)]\n"
            "    return control\n"
        ),
        "feedback": "mesma semente",
    },
    {
        "question": "q5",
        "what": "rounds 1% of 1024 up to 11",
        "replaces": "n_top1_1024",
        "source": 'n_top1_1024 = 11\nanswer_q5a = "b"\nanswer_q5b = "b"',
        "max_points": 2,
        "feedback": "não para cima",
    },
]
