# The study (datasets: in the configuration): every dataset's headline figures side by side
# under results/study/.


def study_outputs():
    return []
