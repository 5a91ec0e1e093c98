from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 2

@test_case(points=2, hidden=False)
def test_q3_trap(trap_text):
    from induction_heads.exercises.ex07_copia_engana.checks import check_trap
    from induction_heads.grading.checks_extra import reference_model
    model, tokenizer = reference_model('toy-2l')
    check_trap(trap_text, model, tokenizer, not_allowed=['casa gato rio mar sol sol mar rio'])

