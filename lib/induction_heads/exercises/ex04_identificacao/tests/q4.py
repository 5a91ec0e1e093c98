from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 3

@test_case(points=1, hidden=False)
def test_q4_public(random_heads_like_manual):
    from induction_heads.exercises.ex04_identificacao.checks import check_random_control
    check_random_control(random_heads_like_manual, [(0, 1), (1, 0), (1, 2)], n_layers=2, n_heads=6)

