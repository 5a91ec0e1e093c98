from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 3

@test_case(points=1, hidden=False)
def test_q1_public(icl_score_manual):
    from induction_heads.exercises.ex03_tarefas_ablacao.checks import check_icl_score
    check_icl_score(icl_score_manual, [(4, 30, 3, 30, 0)])

