from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 3

@test_case(points=1, hidden=False)
def test_q1_public(top_heads_by_fraction):
    from induction_heads.exercises.ex04_identificacao.checks import check_top_heads
    check_top_heads(top_heads_by_fraction, [(2, 4, 0.25, 0), (2, 4, 0.01, 1)])

@test_case(points=1, hidden=True)
def test_q1_scale(top_heads_by_fraction):
    from induction_heads.exercises.ex04_identificacao.checks import check_top_heads
    check_top_heads(top_heads_by_fraction, [(12, 12, 0.03, 2), (32, 32, 0.01, 3), (32, 32, 0.03, 4), (48, 48, 0.01, 5), (2, 4, 1.0, 6)])

@test_case(points=1, hidden=True)
def test_q1_rounding(top_heads_by_fraction):
    from induction_heads.exercises.ex04_identificacao.checks import check_top_heads, check_top_heads_rejects_bad_fraction
    check_top_heads(top_heads_by_fraction, [(2, 4, 0.3125, 7), (4, 4, 0.15625, 8), (2, 4, 0.0625, 9), (4, 4, 0.2, 10)])
    check_top_heads_rejects_bad_fraction(top_heads_by_fraction)

