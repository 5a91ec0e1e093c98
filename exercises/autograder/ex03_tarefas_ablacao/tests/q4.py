from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 1

@test_case(points=0, hidden=False, 
    success_message="Formato válido. Se a alternativa está certa, só a correção (com testes ocultos) diz.")
def test_q4_format(answer_q4):
    from induction_heads.grading.checks import expect_option
    expect_option('answer_q4', answer_q4, 'abcd')

@test_case(points=1, hidden=True)
def test_q4_answer(answer_q4):
    from induction_heads.exercises.ex03_tarefas_ablacao.checks import choose_pattern_option, task_measurements
    from induction_heads.grading.checks import expect_choice
    m = task_measurements(2)
    drops = f"Quedas medidas: recordar {m['recall', 'clean'] - m['recall', 'induction']:+.2f} com as cabeças de indução e {m['recall', 'clean'] - m['recall', 'random']:+.2f} com as de controle; padrão abstrato {m['pattern', 'clean'] - m['pattern', 'induction']:+.2f} com as de indução."
    expect_choice('answer_q4', answer_q4, choose_pattern_option(m), options='abcd', explanations={o: drops for o in 'abcd'})

