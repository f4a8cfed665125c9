from humanoid_trials.cli.main import main

main()
