from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 3

@test_case(points=1, hidden=False)
def test_q3_public(ablate_head_):
    from induction_heads.exercises.ex08_bug_ablacao.checks import check_ablation
    check_ablation(ablate_head_, in_features=12, out_features=10, n_heads=3, head=1)

@test_case(points=1, hidden=True)
def test_q3_square(ablate_head_):
    from induction_heads.exercises.ex08_bug_ablacao.checks import check_ablation
    for head in (0, 3):
        check_ablation(ablate_head_, in_features=16, out_features=16, n_heads=4, head=head, seed=head)
    check_ablation(ablate_head_, in_features=16, out_features=16, n_heads=4, head=2, bias=False)

@test_case(points=1, hidden=True)
def test_q3_bad_input(ablate_head_):
    from induction_heads.exercises.ex08_bug_ablacao.checks import check_ablation_rejects_bad_input
    check_ablation_rejects_bad_input(ablate_head_, in_features=12, out_features=10, n_heads=3, seed=7)

