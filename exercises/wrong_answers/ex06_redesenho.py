"""Realistic wrong answers to exercise 6, graded by tests/test_exercises.py.

Each entry takes the solution notebook, replaces the code cell that defines ``replaces`` with
``source``, and expects question ``question`` to score at most ``max_points`` (default 0) and
its feedback to contain ``feedback``.
"""

_DEF = '''def smear_keys(keys, alpha):
    s = torch.sigmoid(alpha)[None, :, None, None]
'''

WRONG_ANSWERS = [
    {
        "question": "q1",
        "what": "mixes each key with the NEXT position's",
        "replaces": "smear_keys",
        "source": _DEF + (
            "    following = torch.cat([keys[:, :, 1:], keys[:, :, -1:]], dim=2)\n"
            "    return s * keys + (1 - s) * following\n"
        ),
        "feedback": "posição seguinte",
    },
    {
        "question": "q1",
        "what": "torch.roll: position 0 mixed with the last key",
        "replaces": "smear_keys",
        "source": _DEF + "    return s * keys + (1 - s) * torch.roll(keys, 1, dims=2)\n",
        "feedback": "torch.roll",
    },
    {
        "question": "q1",
        "what": "zero padding: position 0 becomes sigmoid(alpha) * k_0",
        "replaces": "smear_keys",
        "source": _DEF + (
            "    previous = torch.nn.functional.pad(keys, (0, 0, 1, 0))[:, :, :-1]\n"
            "    return s * keys + (1 - s) * previous\n"
        ),
        "feedback": "vetor nulo",
    },
    {
        "question": "q1",
        "what": "alpha broadcast over d_head instead of the heads",
        "replaces": "smear_keys",
        "source": (
            "def smear_keys(keys, alpha):\n"
            "    s = torch.sigmoid(alpha)\n"
            "    previous = torch.cat([keys[:, :, :1], keys[:, :, :-1]], dim=2)\n"
            "    return s * keys + (1 - s) * previous\n"
        ),
        "max_points": 1,
        "feedback": "última dimensão",
    },
    {
        "question": "q1",
        "what": "changes the keys in place",
        "replaces": "smear_keys",
        "source": _DEF + (
            "    keys[:, :, 1:] = s * keys[:, :, 1:] + (1 - s) * keys[:, :, :-1]\n"
            "    return keys\n"
        ),
        "feedback": "in-place",
    },
    {
        "question": "q2",
        "what": "reads the attention to the wrong position (the first A)",
        "replaces": "attn_b_smeared",
        "source": (
            "attn_smeared = torch.softmax(smear_keys(keys_abca, alpha_abca)[0, 0] @ query, dim=0)\n"
            "attn_plain = torch.softmax(keys_abca[0, 0] @ query, dim=0)\n"
            "attn_b_smeared = float(attn_smeared[1])\n"
            "attn_b_plain = float(attn_plain[1])\n"
        ),
        "feedback": "o esperado é",
    },
    {
        "question": "q2",
        "what": "divides the scores by sqrt(d) (the prompt says not to)",
        "replaces": "attn_b_smeared",
        "source": (
            "attn_smeared = torch.softmax(smear_keys(keys_abca, alpha_abca)[0, 0] @ query / 2, dim=0)\n"
            "attn_plain = torch.softmax(keys_abca[0, 0] @ query / 2, dim=0)\n"
            "attn_b_smeared = float(attn_smeared[2])\n"
            "attn_b_plain = float(attn_plain[2])\n"
        ),
        "feedback": "sem dividir por raiz de d",
    },
    {
        "question": "q3",
        "what": "confuses K-composition with Q-composition",
        "replaces": "answer_q3",
        "source": 'answer_q3 = "b"',
        "feedback": "composição Q",
    },
    {
        "question": "q4",
        "what": "one parameter per layer, and the tied embedding counted twice",
        "replaces": "n_smear_gpt2",
        "source": (
            "n_smear_gpt2 = 12\n"
            "frac_smear_toy2l = adapter.n_layers * adapter.n_heads / (\n"
            "    sum(p.numel() for p in model.parameters()) + model.lm_head.weight.numel())\n"
        ),
        "feedback": "um parâmetro por camada",
    },
]
