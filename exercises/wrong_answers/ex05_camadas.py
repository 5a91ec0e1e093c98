"""Realistic wrong answers to exercise 5, graded by tests/test_exercises.py.

Each entry takes the solution notebook, replaces the code cell that defines ``replaces`` with
``source``, and expects question ``question`` to score at most ``max_points`` (default 0) and
its feedback to contain ``feedback``.
"""

_EXAMPLE = '''

example = torch.tensor([[0.1, 0.9, 0.2, 0.3],
                        [0.4, 0.0, 0.1, 0.2],
                        [0.5, 0.6, 0.7, 0.0]])
print(best_score_per_layer(example))
'''

WRONG_ANSWERS = [
    {
        "question": "q1",
        "what": "maximum over the wrong axis (the layers)",
        "replaces": "best_score_per_layer",
        "source": "def best_score_per_layer(scores):\n"
                  "    return torch.as_tensor(scores).max(dim=0).values\n" + _EXAMPLE,
        "feedback": "máximo sobre as camadas (dim=0)",
    },
    {
        "question": "q1",
        "what": "returns torch.max's (values, indices) pair",
        "replaces": "best_score_per_layer",
        "source": "def best_score_per_layer(scores):\n"
                  "    return scores.max(dim=1)\n" + _EXAMPLE,
        "feedback": "(valores, índices)",
    },
    {
        "question": "q2",
        "what": "predicts the induction head in layer 0",
        "replaces": "pred_layer_2l",
        "source": "pred_layer_2l = 0\npred_best_1l = 0.05\n",
        "max_points": 1,
        "feedback": "pred_layer_2l",
    },
    {
        "question": "q3",
        "what": "mean over the wrong axis (over the layers, one value per head)",
        "replaces": "layer_profile",
        "source": "def layer_profile(model, tokens):\n"
                  "    scores = prefix_matching_scores(model, tokens)\n"
                  "    return best_score_per_layer(scores), scores.mean(dim=0)\n",
        "feedback": "médias sobre as camadas",
    },
    {
        "question": "q3",
        "what": "returns (mean, best) in the wrong order",
        "replaces": "layer_profile",
        "source": "def layer_profile(model, tokens):\n"
                  "    scores = prefix_matching_scores(model, tokens)\n"
                  "    return scores.mean(dim=1), best_score_per_layer(scores)\n",
        "feedback": "(média, máximo)",
    },
    {
        "question": "q3",
        "what": "uses the previous-token scores",
        "replaces": "layer_profile",
        "source": "from induction_heads import previous_token_scores\n\n\n"
                  "def layer_profile(model, tokens):\n"
                  "    scores = previous_token_scores(model, tokens)\n"
                  "    return best_score_per_layer(scores), scores.mean(dim=1)\n",
        "feedback": "prefix_matching_scores(model, tokens)",
    },
    {
        "question": "q4",
        "what": "gives the evaluation's index instead of its step, and the layer-0 mean",
        "replaces": "step_layer1_crosses",
        "source": (
            "best_by_step = [best_score_per_layer(torch.tensor(pm)) for pm in record['prefix_matching']]\n"
            "step_layer1_crosses = next((k for k, b in enumerate(best_by_step) if b[1] >= 0.5), -1)\n"
            "best_layer0_final = float(torch.tensor(record['prefix_matching'][-1][0]).mean())\n"
        ),
        "feedback": "Você deu o índice k",
    },
    {
        "question": "q5",
        "what": "induction heads in layer 0",
        "replaces": "answer_q5",
        "source": 'answer_q5 = "c"',
        "feedback": "Nenhuma das cabeças citadas está na camada 0",
    },
    {
        "question": "q6",
        "what": "blames the causal mask",
        "replaces": "answer_q6",
        "source": 'answer_q6 = "a"',
        "feedback": "atenção causal",
    },
]
