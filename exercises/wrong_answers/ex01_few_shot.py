"""Realistic wrong answers to exercise 1, graded by tests/test_exercises.py.

Each entry takes the solution notebook, replaces the code cell that defines ``replaces`` with
``source``, and expects question ``question`` to score at most ``max_points`` (default 0) and
its feedback to contain ``feedback``.
"""


def _score(body: str) -> str:
    return (
        "def prefix_matching_score(pattern, tokens):\n"
        "    T = tokens.shape[0]\n"
        "    total, n_queries = 0.0, 0\n"
        + body
        + "    if n_queries == 0:\n"
        "        raise ValueError('no repeats')\n"
        "    return total / n_queries\n"
    )


WRONG_ANSWERS = [
    {
        "question": "q1",
        "what": "predicts that the two models do about the same",
        "replaces": "previsao_q1",
        "source": 'previsao_q1 = "b"\nprevisao_diferenca = 0.0',
        "feedback": "Medido: toy-2l",
    },
    {
        "question": "q2",
        "what": "off-by-one diagonal: attention to the earlier occurrence itself",
        "replaces": "prefix_matching_score",
        "source": _score(
            "    for i in range(T):\n"
            "        earlier = [j for j in range(i) if tokens[j] == tokens[i]]\n"
            "        if earlier:\n"
            "            n_queries += 1\n"
            "            total += float(sum(pattern[i, j] for j in earlier))\n"
        ),
        "feedback": "erro de um na diagonal",
    },
    {
        "question": "q2",
        "what": "averages over every query, not only those whose token occurred before",
        "replaces": "prefix_matching_score",
        "source": _score(
            "    for i in range(T):\n"
            "        earlier = [j for j in range(i) if tokens[j] == tokens[i]]\n"
            "        n_queries += 1\n"
            "        total += float(sum(pattern[i, j + 1] for j in earlier))\n"
        ),
        "feedback": "Você dividiu por todas as",
    },
    {
        "question": "q2",
        "what": "includes the attention to the current token",
        "replaces": "prefix_matching_score",
        "source": _score(
            "    for i in range(T):\n"
            "        earlier = [j for j in range(i) if tokens[j] == tokens[i]]\n"
            "        if earlier:\n"
            "            n_queries += 1\n"
            "            targets = set(j + 1 for j in earlier) | {i}\n"
            "            total += float(sum(pattern[i, k] for k in targets))\n"
        ),
        "feedback": "Você incluiu a atenção ao próprio token",
    },
    {
        "question": "q2",
        "what": "averages over the earlier occurrences instead of adding them up",
        "replaces": "prefix_matching_score",
        "source": _score(
            "    for i in range(T):\n"
            "        earlier = [j for j in range(i) if tokens[j] == tokens[i]]\n"
            "        if earlier:\n"
            "            n_queries += 1\n"
            "            total += float(sum(pattern[i, j + 1] for j in earlier)) / len(earlier)\n"
        ),
        "max_points": 1,
        "feedback": "Você tirou a média da atenção entre as ocorrências anteriores",
    },
    {
        "question": "q3",
        "what": "measures the ablated accuracy outside the ablation block",
        "replaces": "acc_2l",
        "source": (
            "acc_2l = task_accuracy(model_2l, task)\n"
            "acc_1l = task_accuracy(model_1l, task)\n"
            "pontuacoes = prefix_matching_scores(model_2l, repeated_tokens(tok, seq_len=25, n_repeats=4, batch=10, seed=0))\n"
            "cabecas_inducao = top_heads(pontuacoes, k=3)\n"
            "with ablate_heads(model_2l, cabecas_inducao):\n"
            "    pass\n"
            "acc_2l_ablacao = task_accuracy(model_2l, task)\n"
        ),
        "max_points": 2,
        "feedback": "Esse é o valor sem ablação",
    },
    {
        "question": "q3",
        "what": "takes the induction heads from the 1-layer model",
        "replaces": "acc_2l",
        "source": (
            "acc_2l = task_accuracy(model_2l, task)\n"
            "acc_1l = task_accuracy(model_1l, task)\n"
            "pontuacoes = prefix_matching_scores(model_1l, repeated_tokens(tok, seq_len=25, n_repeats=4, batch=10, seed=0))\n"
            "cabecas_inducao = top_heads(pontuacoes, k=3)\n"
            "with ablate_heads(model_2l, cabecas_inducao):\n"
            "    acc_2l_ablacao = task_accuracy(model_2l, task)\n"
        ),
        "max_points": 2,
        "feedback": "não no toy-1l",
    },
    {
        "question": "q4",
        "what": "explains the gap by the number of parameters",
        "replaces": "answer_q4",
        "source": 'diferenca_medida = acc_2l - acc_1l\nanswer_q4 = "a"',
        "max_points": 1,
        "feedback": "A alternativa 'a' não está correta",
    },
]
