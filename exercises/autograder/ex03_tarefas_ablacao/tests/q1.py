from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 3

@test_case(points=1, hidden=False)
def test_q1_public(icl_score_manual):
    from induction_heads.exercises.ex03_tarefas_ablacao.checks import check_icl_score
    check_icl_score(icl_score_manual, [(4, 30, 3, 30, 0)])

@test_case(points=1, hidden=True)
def test_q1_cases(icl_score_manual):
    from induction_heads.exercises.ex03_tarefas_ablacao.checks import check_icl_score, check_icl_score_on_model
    check_icl_score(icl_score_manual, [(1, 10, 1, 10, 1), (6, 100, 10, 100, 2), (3, 50, 17, 18, 3)])
    check_icl_score_on_model(icl_score_manual)

@test_case(points=1, hidden=True)
def test_q1_bad_positions(icl_score_manual):
    from induction_heads.exercises.ex03_tarefas_ablacao.checks import check_icl_rejects_bad_positions, check_icl_score
    check_icl_score(icl_score_manual, [(2, 20, 2, 19, 4)])
    check_icl_rejects_bad_positions(icl_score_manual)

