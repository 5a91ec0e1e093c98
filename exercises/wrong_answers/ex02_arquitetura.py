"""Realistic wrong answers to exercise 2, graded by tests/test_exercises.py.

Each entry takes the solution notebook, replaces the code cell that defines ``replaces`` with
``source``, and expects question ``question`` to score at most ``max_points`` (default 0) and
its feedback to contain ``feedback``.
"""

_SOLUTION_Q3 = (
    "melhor_pm_1l = float(pm_1l.max())\n"
    "melhor_pm_2l = float(pm_2l.max())\n"
    "cabeca_inducao = top_heads(pm_2l, k=1)[0]\n"
    "pt_camada0 = previous_token_score(attention_patterns(model_2l, sonda, layers=[0])[0])\n"
)

WRONG_ANSWERS = [
    {
        "question": "q1",
        "what": "one layer is enough",
        "replaces": "answer_q1a",
        "source": 'answer_q1a = "a"\nanswer_q1b = "b"',
        "max_points": 1,
        "feedback": "Numa camada só",
    },
    {
        "question": "q2",
        "what": "main diagonal (offset 0): attention to the current token",
        "replaces": "previous_token_score",
        "source": (
            "def previous_token_score(pattern):\n"
            "    return pattern.diagonal(offset=0, dim1=-2, dim2=-1).mean(dim=(0, 2))\n"
        ),
        "feedback": "diagonal principal",
    },
    {
        "question": "q2",
        "what": "diagonal above the main one (offset +1)",
        "replaces": "previous_token_score",
        "source": (
            "def previous_token_score(pattern):\n"
            "    return pattern.diagonal(offset=1, dim1=-2, dim2=-1).mean(dim=(0, 2))\n"
        ),
        "feedback": "diagonal acima da principal",
    },
    {
        "question": "q2",
        "what": "divides by every position, including position 0",
        "replaces": "previous_token_score",
        "source": (
            "def previous_token_score(pattern):\n"
            "    T = pattern.shape[-1]\n"
            "    return pattern.diagonal(offset=-1, dim1=-2, dim2=-1).sum(-1).mean(0) / T\n"
        ),
        "feedback": "a posição 0",
    },
    {
        "question": "q2",
        "what": "averages over the heads instead of per head",
        "replaces": "previous_token_score",
        "source": (
            "def previous_token_score(pattern):\n"
            "    return pattern.diagonal(offset=-1, dim1=-2, dim2=-1).mean(dim=(1, 2))\n"
        ),
        "feedback": "uma pontuação por cabeça",
    },
    {
        "question": "q3",
        "what": "picks the layer-0 head with the lowest previous-token score",
        "replaces": "cabeca_token_anterior",
        "source": _SOLUTION_Q3 + "cabeca_token_anterior = (0, int(pt_camada0.argmin()))\n",
        "max_points": 2,
        "feedback": "MENOR pontuação de token anterior",
    },
    {
        "question": "q4",
        "what": "measures the ablated score outside the ablation block",
        "replaces": "previsao_q4",
        "source": (
            'previsao_q4 = "a"\n'
            "cabeca_controle = (0, int(pt_camada0.argmin()))\n"
            "with ablate_heads(model_2l, [cabeca_token_anterior]):\n"
            "    pass\n"
            "pm_sem_token_anterior = float(prefix_matching_scores(model_2l, sonda)[cabeca_inducao])\n"
            "with ablate_heads(model_2l, [cabeca_controle]):\n"
            "    pm_controle = float(prefix_matching_scores(model_2l, sonda)[cabeca_inducao])\n"
        ),
        "max_points": 2,
        "feedback": "Esse é o valor sem ablação",
    },
    {
        "question": "q4",
        "what": "predicts that the induction head barely changes",
        "replaces": "previsao_q4",
        "source": (
            'previsao_q4 = "c"\n'
            "cabeca_controle = (0, int(pt_camada0.argmin()))\n"
            "with ablate_heads(model_2l, [cabeca_token_anterior]):\n"
            "    pm_sem_token_anterior = float(prefix_matching_scores(model_2l, sonda)[cabeca_inducao])\n"
            "with ablate_heads(model_2l, [cabeca_controle]):\n"
            "    pm_controle = float(prefix_matching_scores(model_2l, sonda)[cabeca_inducao])\n"
        ),
        "max_points": 2,
        "feedback": "Medido: a correspondência de prefixo",
    },
]
