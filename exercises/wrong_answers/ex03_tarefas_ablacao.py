"""Realistic wrong answers to exercise 3, graded by tests/test_exercises.py.

Each entry takes the solution notebook, replaces the code cell that defines ``replaces`` with
``source``, and expects question ``question`` to score at most ``max_points`` (default 0) and
its feedback to contain ``feedback``.
"""

_CHECKS = (
    "    n_positions = losses.shape[1]\n"
    "    if early >= late:\n"
    "        raise ValueError('early must come before late')\n"
    "    for value in (early, late):\n"
    "        if not 1 <= value <= n_positions:\n"
    "            raise ValueError('position out of range')\n"
)


def _hook(body: str, register: str = "register_forward_pre_hook") -> str:
    return (
        "def ablate_head_with_hook(out_proj, head, d_head):\n"
        "    def hook(module, args):\n"
        + body
        + f"    return out_proj.{register}(hook)\n"
    )


def _measure(inside: bool) -> str:
    body = (
        "        medidas[('recall', grupo)] = task_accuracy(model, tarefas['recall'])\n"
        "        medidas[('pattern', grupo)] = task_accuracy(model, tarefas['pattern'])\n"
        "        medidas[('icl', grupo)] = icl_score_manual(per_token_loss(model, sonda), 10, 100)\n"
    )
    if not inside:
        body = "        pass\n" + body.replace("        ", "    ")
    return (
        "cabecas_inducao = top_heads(prefix_matching_scores(model, sonda), k=2)\n"
        "cabecas_controle = random_heads_like(cabecas_inducao, model, seed=0)\n"
        "medidas = {}\n"
        "for grupo, cabecas in (('limpo', []), ('inducao', cabecas_inducao), ('controle', cabecas_controle)):\n"
        "    with ablate_heads(model, cabecas):\n"
        + body
        + "acc_recall_limpo = medidas[('recall', 'limpo')]\n"
        "acc_recall_inducao = medidas[('recall', 'inducao')]\n"
        "acc_recall_controle = medidas[('recall', 'controle')]\n"
        "acc_padrao_limpo = medidas[('pattern', 'limpo')]\n"
        "acc_padrao_inducao = medidas[('pattern', 'inducao')]\n"
        "acc_padrao_controle = medidas[('pattern', 'controle')]\n"
        "icl_limpo = medidas[('icl', 'limpo')]\n"
        "icl_inducao = medidas[('icl', 'inducao')]\n"
        "icl_controle = medidas[('icl', 'controle')]\n"
    )


WRONG_ANSWERS = [
    {
        "question": "q1",
        "what": "reads columns early and late (off by one: column t is the loss on token t + 1)",
        "replaces": "icl_score_manual",
        "source": (
            "def icl_score_manual(losses, early, late):\n" + _CHECKS
            + "    return float(losses[:, late].mean() - losses[:, early].mean())\n"
        ),
        "feedback": "a coluna t é a perda no token",
    },
    {
        "question": "q1",
        "what": "early minus late (sign reversed)",
        "replaces": "icl_score_manual",
        "source": (
            "def icl_score_manual(losses, early, late):\n" + _CHECKS
            + "    return float(losses[:, early - 1].mean() - losses[:, late - 1].mean())\n"
        ),
        "feedback": "O sinal está trocado",
    },
    {
        "question": "q1",
        "what": "no validation of the positions",
        "replaces": "icl_score_manual",
        "source": (
            "def icl_score_manual(losses, early, late):\n"
            "    return float(losses[:, late - 1].mean() - losses[:, early - 1].mean())\n"
        ),
        "max_points": 2,
        "feedback": "deveria levantar ValueError",
    },
    {
        "question": "q2",
        "what": "zeroes the head's slice of the output (the rows of W_O) with a forward hook",
        "replaces": "ablate_head_with_hook",
        "source": (
            "def ablate_head_with_hook(out_proj, head, d_head):\n"
            "    def hook(module, args, output):\n"
            "        output = output.clone()\n"
            "        output[..., head * d_head:(head + 1) * d_head] = 0\n"
            "        return output\n"
            "    return out_proj.register_forward_hook(hook)\n"
        ),
        "feedback": "SAÍDA da camada",
    },
    {
        "question": "q2",
        "what": "zeroes the input in place",
        "replaces": "ablate_head_with_hook",
        "source": _hook(
            "        args[0][..., head * d_head:(head + 1) * d_head] = 0\n"
            "        return args\n"
        ),
        "max_points": 1,
        "feedback": "in-place",
    },
    {
        "question": "q2",
        "what": "off by one block (the next head)",
        "replaces": "ablate_head_with_hook",
        "source": _hook(
            "        x = args[0].clone()\n"
            "        x[..., (head + 1) * d_head:(head + 2) * d_head] = 0\n"
            "        return (x,) + tuple(args[1:])\n"
        ),
        "feedback": "erro de um bloco",
    },
    {
        "question": "q2",
        "what": "changes a copy but returns nothing from the hook",
        "replaces": "ablate_head_with_hook",
        "source": _hook(
            "        x = args[0].clone()\n"
            "        x[..., head * d_head:(head + 1) * d_head] = 0\n"
        ),
        "feedback": "o hook não teve efeito",
    },
    {
        "question": "q3",
        "what": "measures after the ablation block has ended",
        "replaces": "acc_recall_inducao",
        "source": _measure(inside=False),
        "max_points": 1,
        "feedback": "Esse é o valor sem ablação",
    },
]

WRONG_ANSWERS.append({
    "question": "q4",
    "what": "claims the control heads hurt recall as much as the induction heads",
    "replaces": "answer_q4",
    "source": 'answer_q4 = "d"',
    "feedback": "Quedas medidas",
})
