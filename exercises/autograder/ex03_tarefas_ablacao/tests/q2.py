from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 3

@test_case(points=1, hidden=False)
def test_q2_public(ablate_head_with_hook):
    from induction_heads.exercises.ex03_tarefas_ablacao.checks import check_hook_ablation
    check_hook_ablation(ablate_head_with_hook, in_features=12, out_features=10, d_head=4, head=1)

@test_case(points=1, hidden=True)
def test_q2_linear(ablate_head_with_hook):
    from induction_heads.exercises.ex03_tarefas_ablacao.checks import check_hook_ablation
    check_hook_ablation(ablate_head_with_hook, in_features=16, out_features=16, d_head=4, head=0, seed=1)
    check_hook_ablation(ablate_head_with_hook, in_features=16, out_features=16, d_head=4, head=3, seed=2)
    check_hook_ablation(ablate_head_with_hook, in_features=15, out_features=7, d_head=5, head=2, bias=False, seed=3)

@test_case(points=1, hidden=True)
def test_q2_model(ablate_head_with_hook):
    from induction_heads.exercises.ex03_tarefas_ablacao.checks import check_hook_on_model
    check_hook_on_model(ablate_head_with_hook, [(1, 1)])
    check_hook_on_model(ablate_head_with_hook, [(0, 0), (1, 3)])

