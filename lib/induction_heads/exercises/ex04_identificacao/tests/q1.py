from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 3

@test_case(points=1, hidden=False)
def test_q1_public(top_heads_by_fraction):
    from induction_heads.exercises.ex04_identificacao.checks import check_top_heads
    check_top_heads(top_heads_by_fraction, [(2, 4, 0.25, 0), (2, 4, 0.01, 1)])

