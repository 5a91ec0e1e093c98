from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 3

@test_case(points=1, hidden=False)
def test_q2_public(prefix_matching_score):
    from induction_heads.exercises.ex01_few_shot.checks import check_prefix_matching, public_case
    check_prefix_matching(prefix_matching_score, public_case())

