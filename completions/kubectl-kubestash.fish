# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_kubectl_kubestash_global_optspecs
    string join \n kubeconfig= context= n/namespace= o/output= v/verbose h/help V/version
end

function __fish_kubectl_kubestash_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_kubectl_kubestash_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_kubectl_kubestash_using_subcommand
    set -l cmd (__fish_kubectl_kubestash_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_needs_command" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl\'s does, or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_needs_command" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_needs_command" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_needs_command" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_needs_command" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_needs_command" -s V -l version -d 'Print version'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_needs_command" -f -a "version" -d 'Print the version of the plugin and of the API it serves'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_needs_command" -f -a "crds" -d 'Print the CustomResourceDefinitions, or write them to a directory'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_needs_command" -f -a "completion" -d 'Print a shell completion script'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_needs_command" -f -a "validate" -d 'Check KubeStash manifests against the API and the admission rules, without a cluster'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_needs_command" -f -a "backup" -d 'Back up now: create BackupSession(s) and optionally wait for the outcome'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_needs_command" -f -a "restore" -d 'Restore a snapshot into a workload or PVC, or manifests into the cluster'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_needs_command" -f -a "install" -d 'Install the CRDs, RBAC, default catalog and operator Deployment'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_needs_command" -f -a "uninstall" -d 'Remove what `install` applied (the CRDs only with --include-crds)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_needs_command" -f -a "operator" -d 'Run the operator (every controller) in the foreground'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_needs_command" -f -a "pause" -d 'Pause the schedules of a BackupConfiguration or, with --batch, a BackupBatch (sets spec.paused)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_needs_command" -f -a "resume" -d 'Resume a paused BackupConfiguration or, with --batch, BackupBatch'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_needs_command" -f -a "snapshots" -d 'List and describe snapshots'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_needs_command" -f -a "storage" -d 'Set up, list and check BackupStorages'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_needs_command" -f -a "blueprint" -d 'Preview what auto-backup creates from a BackupBlueprint'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_needs_command" -f -a "demo" -d 'Try it in 30 seconds: back up, delete and restore a workload\'s files on a built-in cluster'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_needs_command" -f -a "sandbox" -d 'Run the built-in sandbox cluster (an in-memory API server) in the foreground'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_needs_command" -f -a "executor" -d 'Steps that run inside backup and restore Jobs'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_needs_command" -f -a "__complete" -d 'Complete a partial command line (used by the `kubectl_complete-kubestash` shim)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand version" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl\'s does, or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand version" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand version" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand version" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand version" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand version" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand crds" -l out -d 'Write one file per CRD (`<group>_<plural>.yaml`) into this directory instead of printing' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand crds" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl\'s does, or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand crds" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand crds" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand crds" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand crds" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand crds" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand completion" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl\'s does, or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand completion" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand completion" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand completion" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand completion" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand completion" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand validate" -s f -l filename -d 'A file, a directory of .yaml/.yml/.json files, or `-` for stdin; repeatable' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand validate" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl\'s does, or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand validate" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand validate" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand validate" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand validate" -s R -l recursive -d 'Walk directories recursively'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand validate" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand validate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand backup; and not __fish_seen_subcommand_from now help" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl\'s does, or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand backup; and not __fish_seen_subcommand_from now help" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand backup; and not __fish_seen_subcommand_from now help" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand backup; and not __fish_seen_subcommand_from now help" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand backup; and not __fish_seen_subcommand_from now help" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand backup; and not __fish_seen_subcommand_from now help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand backup; and not __fish_seen_subcommand_from now help" -f -a "now" -d 'Trigger a backup of a BackupConfiguration (or, with --batch, a BackupBatch) now'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand backup; and not __fish_seen_subcommand_from now help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand backup; and __fish_seen_subcommand_from now" -l session -d 'Only these sessions (default: every session)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand backup; and __fish_seen_subcommand_from now" -l timeout -d 'How long to wait (Go duration: 90s, 10m, 1h)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand backup; and __fish_seen_subcommand_from now" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl\'s does, or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand backup; and __fish_seen_subcommand_from now" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand backup; and __fish_seen_subcommand_from now" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand backup; and __fish_seen_subcommand_from now" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand backup; and __fish_seen_subcommand_from now" -l batch -d 'The name is a BackupBatch: one session backs up all of its targets'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand backup; and __fish_seen_subcommand_from now" -l wait -d 'Wait until the sessions end, and exit with their outcome'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand backup; and __fish_seen_subcommand_from now" -l follow-retries -d 'With --wait: when a session fails and its retryConfig leaves retries, wait for the operator\'s retry and exit with the last attempt\'s outcome'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand backup; and __fish_seen_subcommand_from now" -l embedded -d 'With --wait: run the controllers in this process even if an operator is running'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand backup; and __fish_seen_subcommand_from now" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand backup; and __fish_seen_subcommand_from now" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand backup; and __fish_seen_subcommand_from help" -f -a "now" -d 'Trigger a backup of a BackupConfiguration (or, with --batch, a BackupBatch) now'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand backup; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand restore" -s f -l filename -d 'A RestoreSession manifest to create instead of building one from flags' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand restore" -l from-repository -d 'The Repository to restore from' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand restore" -l repository-namespace -d 'Namespace of the Repository (default: the restore\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand restore" -l snapshot -d 'Snapshot name, or `latest`' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand restore" -l target -d 'What to restore into: deployment/NAME, statefulset/NAME, pvc/NAME (omit for manifests)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand restore" -l components -d 'Only these components (comma-separated)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand restore" -l include -d 'Only these paths of the snapshot, restic-style (comma-separated): `/data/app` takes that directory and what is in it, `*.sql` matches at any depth' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand restore" -l exclude -d 'Leave out these paths of the snapshot, restic-style (comma-separated)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand restore" -l name -d 'Name of the RestoreSession (default: generated)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand restore" -l timeout -d 'How long to wait' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand restore" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl\'s does, or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand restore" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand restore" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand restore" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand restore" -l dry-run -d 'Print the RestoreSession instead of creating it'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand restore" -l wait -d 'Wait until the restore ends, and exit with its outcome'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand restore" -l embedded -d 'With --wait: run the controllers in this process even if an operator is running'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand restore" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand restore" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand install" -l image -d 'Image of the operator and its Jobs' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand install" -l timeout -d 'How long to wait' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand install" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl\'s does, or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand install" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand install" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand install" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand install" -l dry-run -d 'Print the bundle instead of applying it (-o yaml|json)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand install" -l no-operator -d 'Leave the operator Deployment out (run `operator run` elsewhere, or let one-shot commands embed it)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand install" -l wait -d 'Wait until the operator holds its leader Lease'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand install" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand install" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand uninstall" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl\'s does, or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand uninstall" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand uninstall" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand uninstall" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand uninstall" -l include-crds -d 'Also delete the CRDs, and with them every KubeStash object in the cluster'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand uninstall" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand uninstall" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand operator; and not __fish_seen_subcommand_from run help" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl\'s does, or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand operator; and not __fish_seen_subcommand_from run help" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand operator; and not __fish_seen_subcommand_from run help" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand operator; and not __fish_seen_subcommand_from run help" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand operator; and not __fish_seen_subcommand_from run help" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand operator; and not __fish_seen_subcommand_from run help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand operator; and not __fish_seen_subcommand_from run help" -f -a "run" -d 'Run the operator in the foreground (Lease namespace from -n, default `kubestash`)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand operator; and not __fish_seen_subcommand_from run help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand operator; and __fish_seen_subcommand_from run" -l image -d 'Image of the backup, restore and trigger Jobs' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand operator; and __fish_seen_subcommand_from run" -l metrics-addr -d 'Serve /metrics, /healthz and /readyz here (e.g. 127.0.0.1:8080)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand operator; and __fish_seen_subcommand_from run" -l pending-pod-timeout -d 'Fail a backup or restore component whose Job\'s pod stays Pending this long (an image that cannot be pulled, a pod that cannot be scheduled); 0 waits for the session\'s own timeout' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand operator; and __fish_seen_subcommand_from run" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl\'s does, or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand operator; and __fish_seen_subcommand_from run" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand operator; and __fish_seen_subcommand_from run" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand operator; and __fish_seen_subcommand_from run" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand operator; and __fish_seen_subcommand_from run" -l no-bootstrap -d 'Do not apply the CRDs and the default catalog at start'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand operator; and __fish_seen_subcommand_from run" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand operator; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand operator; and __fish_seen_subcommand_from help" -f -a "run" -d 'Run the operator in the foreground (Lease namespace from -n, default `kubestash`)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand operator; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand pause" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl\'s does, or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand pause" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand pause" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand pause" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand pause" -l batch -d 'The name is a BackupBatch'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand pause" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand pause" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand resume" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl\'s does, or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand resume" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand resume" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand resume" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand resume" -l batch -d 'The name is a BackupBatch'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand resume" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand resume" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand snapshots; and not __fish_seen_subcommand_from list describe help" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl\'s does, or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand snapshots; and not __fish_seen_subcommand_from list describe help" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand snapshots; and not __fish_seen_subcommand_from list describe help" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand snapshots; and not __fish_seen_subcommand_from list describe help" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand snapshots; and not __fish_seen_subcommand_from list describe help" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand snapshots; and not __fish_seen_subcommand_from list describe help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand snapshots; and not __fish_seen_subcommand_from list describe help" -f -a "list" -d 'List snapshots, newest first'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand snapshots; and not __fish_seen_subcommand_from list describe help" -f -a "describe" -d 'Show a snapshot\'s components, paths, restic ids, sizes and integrity'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand snapshots; and not __fish_seen_subcommand_from list describe help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand snapshots; and __fish_seen_subcommand_from list" -l repository -d 'Only snapshots of this Repository' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand snapshots; and __fish_seen_subcommand_from list" -l config -d 'Only snapshots of this BackupConfiguration\'s repositories' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand snapshots; and __fish_seen_subcommand_from list" -l batch -d 'Only snapshots of this BackupBatch\'s repositories (every target\'s)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand snapshots; and __fish_seen_subcommand_from list" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl\'s does, or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand snapshots; and __fish_seen_subcommand_from list" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand snapshots; and __fish_seen_subcommand_from list" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand snapshots; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand snapshots; and __fish_seen_subcommand_from list" -s A -l all-namespaces -d 'List snapshots of every namespace'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand snapshots; and __fish_seen_subcommand_from list" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand snapshots; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand snapshots; and __fish_seen_subcommand_from describe" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl\'s does, or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand snapshots; and __fish_seen_subcommand_from describe" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand snapshots; and __fish_seen_subcommand_from describe" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand snapshots; and __fish_seen_subcommand_from describe" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand snapshots; and __fish_seen_subcommand_from describe" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand snapshots; and __fish_seen_subcommand_from describe" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand snapshots; and __fish_seen_subcommand_from help" -f -a "list" -d 'List snapshots, newest first'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand snapshots; and __fish_seen_subcommand_from help" -f -a "describe" -d 'Show a snapshot\'s components, paths, restic ids, sizes and integrity'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand snapshots; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and not __fish_seen_subcommand_from setup list check help" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl\'s does, or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and not __fish_seen_subcommand_from setup list check help" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and not __fish_seen_subcommand_from setup list check help" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and not __fish_seen_subcommand_from setup list check help" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and not __fish_seen_subcommand_from setup list check help" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and not __fish_seen_subcommand_from setup list check help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and not __fish_seen_subcommand_from setup list check help" -f -a "setup" -d 'Create a BackupStorage and its credentials Secret, wait for Ready, check connectivity'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and not __fish_seen_subcommand_from setup list check help" -f -a "list" -d 'List BackupStorages'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and not __fish_seen_subcommand_from setup list check help" -f -a "check" -d 'Check a BackupStorage: write, read back and delete a probe object'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and not __fish_seen_subcommand_from setup list check help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from setup" -l provider -d 'Backend provider' -r -f -a "s3\t'Amazon S3 or any S3-compatible server (MinIO, SeaweedFS, Ceph…)'
gcs\t'Google Cloud Storage'
azure\t'Azure Blob Storage'
local\t'A volume: hostPath, NFS or a PersistentVolumeClaim'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from setup" -l bucket -d 'Bucket (s3, gcs)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from setup" -l endpoint -d 'S3 endpoint URL (default: https://s3.amazonaws.com)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from setup" -l region -d 'S3 region' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from setup" -l ca-cert -d 'PEM file of the CA behind the S3 endpoint\'s certificate; stored as CA_CERT_DATA in the Secret --secret-from-env creates' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from setup" -l prefix -d 'Path prefix inside the bucket or container (s3, gcs, azure)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from setup" -l storage-account -d 'Azure storage account' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from setup" -l container -d 'Azure container' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from setup" -l host-path -d 'Directory on the node (local)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from setup" -l pvc -d 'PersistentVolumeClaim in the storage\'s namespace (local)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from setup" -l nfs-server -d 'NFS server (local; with --nfs-path)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from setup" -l nfs-path -d 'Exported path on the NFS server (local)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from setup" -l mount-path -d 'Where backup Jobs mount the volume (local)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from setup" -l sub-path -d 'Directory inside the volume (local)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from setup" -l secret -d 'Credentials Secret: an existing one, or the name to create with --secret-from-env (default name: <storage>-credentials)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from setup" -l usage-policy -d 'Which namespaces may use it' -r -f -a "Same\t'Only the storage\'s own namespace'
All\t'Every namespace'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from setup" -l deletion-policy -d 'What deleting the BackupStorage does to the data' -r -f -a "Delete\t'Keep the backend data'
WipeOut\t'Remove the backend data too'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from setup" -l timeout -d 'How long to wait for Ready and the check, e.g. 2m' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from setup" -l image -d 'Image of the check Job for volume storages' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from setup" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl\'s does, or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from setup" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from setup" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from setup" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from setup" -l insecure-tls -d 'Accept the S3 endpoint\'s certificate without verifying it'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from setup" -l secret-from-env -d 'Create the credentials Secret from the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; GOOGLE_SERVICE_ACCOUNT_JSON_KEY; AZURE_ACCOUNT_KEY)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from setup" -l default -d 'Make it the default BackupStorage'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from setup" -l dry-run -d 'Print the objects (Secret values redacted) instead of creating them'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from setup" -l non-interactive -d 'Never prompt, even on a terminal'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from setup" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from setup" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from list" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl\'s does, or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from list" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from list" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from list" -s A -l all-namespaces -d 'List storages of every namespace'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from list" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from check" -l timeout -d 'How long to wait for the check, e.g. 1m' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from check" -l image -d 'Image of the check Job for volume storages' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from check" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl\'s does, or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from check" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from check" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from check" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from check" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from help" -f -a "setup" -d 'Create a BackupStorage and its credentials Secret, wait for Ready, check connectivity'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from help" -f -a "list" -d 'List BackupStorages'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from help" -f -a "check" -d 'Check a BackupStorage: write, read back and delete a probe object'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand storage; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand blueprint; and not __fish_seen_subcommand_from preview help" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl\'s does, or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand blueprint; and not __fish_seen_subcommand_from preview help" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand blueprint; and not __fish_seen_subcommand_from preview help" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand blueprint; and not __fish_seen_subcommand_from preview help" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand blueprint; and not __fish_seen_subcommand_from preview help" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand blueprint; and not __fish_seen_subcommand_from preview help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand blueprint; and not __fish_seen_subcommand_from preview help" -f -a "preview" -d 'Print the BackupConfiguration a blueprint creates for a target; exit 2 naming every unresolved `${variable}`'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand blueprint; and not __fish_seen_subcommand_from preview help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand blueprint; and __fish_seen_subcommand_from preview" -s f -l filename -d 'Read the blueprint from this file instead of the cluster' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand blueprint; and __fish_seen_subcommand_from preview" -l target -d 'The target in the cluster, as KIND/NAME (e.g. deployment/orders) in -n\'s namespace' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand blueprint; and __fish_seen_subcommand_from preview" -l target-file -d 'Read the target from this file instead of the cluster' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand blueprint; and __fish_seen_subcommand_from preview" -l blueprint-namespace -d 'Namespace of the blueprint (default: the target\'s annotation, else -n\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand blueprint; and __fish_seen_subcommand_from preview" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl\'s does, or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand blueprint; and __fish_seen_subcommand_from preview" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand blueprint; and __fish_seen_subcommand_from preview" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand blueprint; and __fish_seen_subcommand_from preview" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand blueprint; and __fish_seen_subcommand_from preview" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand blueprint; and __fish_seen_subcommand_from preview" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand blueprint; and __fish_seen_subcommand_from help" -f -a "preview" -d 'Print the BackupConfiguration a blueprint creates for a target; exit 2 naming every unresolved `${variable}`'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand blueprint; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand demo" -l keep-dir -d 'Keep the sandbox data and the backup storage in this directory (it must be empty or absent); without it everything lives in a temporary directory removed at the end' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand demo" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl\'s does, or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand demo" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand demo" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand demo" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand demo" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand demo" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand sandbox" -l data-dir -d 'Directory for volumes and pod files (default: a temporary directory removed on exit)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand sandbox" -l port -d 'Port of the API server on 127.0.0.1 (default: a free one)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand sandbox" -l kubeconfig-out -d 'Write the kubeconfig for the sandbox to this path' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand sandbox" -l image -d 'Image whose pods run as local processes of this binary' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand sandbox" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl\'s does, or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand sandbox" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand sandbox" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand sandbox" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand sandbox" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand sandbox" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and not __fish_seen_subcommand_from backup restore trigger sync-storage retention check-volume list-manifests wipe-snapshot wipe-volume help" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl\'s does, or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and not __fish_seen_subcommand_from backup restore trigger sync-storage retention check-volume list-manifests wipe-snapshot wipe-volume help" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and not __fish_seen_subcommand_from backup restore trigger sync-storage retention check-volume list-manifests wipe-snapshot wipe-volume help" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and not __fish_seen_subcommand_from backup restore trigger sync-storage retention check-volume list-manifests wipe-snapshot wipe-volume help" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and not __fish_seen_subcommand_from backup restore trigger sync-storage retention check-volume list-manifests wipe-snapshot wipe-volume help" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and not __fish_seen_subcommand_from backup restore trigger sync-storage retention check-volume list-manifests wipe-snapshot wipe-volume help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and not __fish_seen_subcommand_from backup restore trigger sync-storage retention check-volume list-manifests wipe-snapshot wipe-volume help" -f -a "backup" -d 'Back up one component of a BackupSession'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and not __fish_seen_subcommand_from backup restore trigger sync-storage retention check-volume list-manifests wipe-snapshot wipe-volume help" -f -a "restore" -d 'Restore one component of a Snapshot for a RestoreSession'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and not __fish_seen_subcommand_from backup restore trigger sync-storage retention check-volume list-manifests wipe-snapshot wipe-volume help" -f -a "trigger" -d 'Create a BackupSession (what a session\'s CronJob runs)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and not __fish_seen_subcommand_from backup restore trigger sync-storage retention check-volume list-manifests wipe-snapshot wipe-volume help" -f -a "sync-storage" -d 'Initialize a volume backend from a Job that mounts it'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and not __fish_seen_subcommand_from backup restore trigger sync-storage retention check-volume list-manifests wipe-snapshot wipe-volume help" -f -a "retention" -d 'Apply the retention policies after a BackupSession'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and not __fish_seen_subcommand_from backup restore trigger sync-storage retention check-volume list-manifests wipe-snapshot wipe-volume help" -f -a "check-volume" -d 'Probe a volume backend: write, read back and delete an object (`storage check`)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and not __fish_seen_subcommand_from backup restore trigger sync-storage retention check-volume list-manifests wipe-snapshot wipe-volume help" -f -a "list-manifests" -d 'List the objects of a manifest snapshot on a volume (`restore --dry-run`)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and not __fish_seen_subcommand_from backup restore trigger sync-storage retention check-volume list-manifests wipe-snapshot wipe-volume help" -f -a "wipe-snapshot" -d 'Remove a deleted WipeOut Snapshot\'s data from the backend, then release it'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and not __fish_seen_subcommand_from backup restore trigger sync-storage retention check-volume list-manifests wipe-snapshot wipe-volume help" -f -a "wipe-volume" -d 'Empty a volume directory (WipeOut delete of a Repository or BackupStorage)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and not __fish_seen_subcommand_from backup restore trigger sync-storage retention check-volume list-manifests wipe-snapshot wipe-volume help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from backup" -l mode -d 'paths or manifest' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from backup" -l backupsession -d 'The BackupSession' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from backup" -l component -d 'The component' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from backup" -l param -d 'A task parameter, key=value (repeatable)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from backup" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl\'s does, or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from backup" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from backup" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from backup" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from backup" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from backup" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from restore" -l mode -d 'paths or manifest' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from restore" -l restoresession -d 'The RestoreSession' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from restore" -l snapshot -d 'The Snapshot' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from restore" -l component -d 'The component' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from restore" -l param -d 'A task parameter, key=value (repeatable)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from restore" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl\'s does, or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from restore" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from restore" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from restore" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from restore" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from restore" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from trigger" -l invoker-kind -d 'Invoker kind' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from trigger" -l invoker-name -d 'Invoker name' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from trigger" -l session -d 'Session name' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from trigger" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl\'s does, or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from trigger" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from trigger" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from trigger" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from trigger" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from trigger" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from sync-storage" -l storage -d 'The BackupStorage' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from sync-storage" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl\'s does, or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from sync-storage" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from sync-storage" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from sync-storage" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from sync-storage" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from sync-storage" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from retention" -l backupsession -d 'The BackupSession' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from retention" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl\'s does, or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from retention" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from retention" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from retention" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from retention" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from retention" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from check-volume" -l path -d 'The backend directory inside the container (mount path and subPath)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from check-volume" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl\'s does, or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from check-volume" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from check-volume" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from check-volume" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from check-volume" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from check-volume" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from list-manifests" -l path -d 'The component repository inside the container' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from list-manifests" -l snapshot-id -d 'The restic snapshot id' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from list-manifests" -l param -d 'A restore task parameter, key=value (repeatable)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from list-manifests" -l restore-namespace -d 'Namespace the objects would be moved into' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from list-manifests" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl\'s does, or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from list-manifests" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from list-manifests" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from list-manifests" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from list-manifests" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from list-manifests" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from wipe-snapshot" -l snapshot -d 'The Snapshot' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from wipe-snapshot" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl\'s does, or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from wipe-snapshot" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from wipe-snapshot" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from wipe-snapshot" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from wipe-snapshot" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from wipe-snapshot" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from wipe-volume" -l path -d 'The backend directory inside the container (mount path and subPath)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from wipe-volume" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl\'s does, or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from wipe-volume" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from wipe-volume" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from wipe-volume" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from wipe-volume" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from wipe-volume" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from help" -f -a "backup" -d 'Back up one component of a BackupSession'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from help" -f -a "restore" -d 'Restore one component of a Snapshot for a RestoreSession'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from help" -f -a "trigger" -d 'Create a BackupSession (what a session\'s CronJob runs)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from help" -f -a "sync-storage" -d 'Initialize a volume backend from a Job that mounts it'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from help" -f -a "retention" -d 'Apply the retention policies after a BackupSession'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from help" -f -a "check-volume" -d 'Probe a volume backend: write, read back and delete an object (`storage check`)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from help" -f -a "list-manifests" -d 'List the objects of a manifest snapshot on a volume (`restore --dry-run`)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from help" -f -a "wipe-snapshot" -d 'Remove a deleted WipeOut Snapshot\'s data from the backend, then release it'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from help" -f -a "wipe-volume" -d 'Empty a volume directory (WipeOut delete of a Repository or BackupStorage)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand executor; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand __complete" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl\'s does, or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand __complete" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand __complete" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand __complete" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand __complete" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand __complete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and not __fish_seen_subcommand_from version crds completion validate backup restore install uninstall operator pause resume snapshots storage blueprint demo sandbox executor __complete help" -f -a "version" -d 'Print the version of the plugin and of the API it serves'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and not __fish_seen_subcommand_from version crds completion validate backup restore install uninstall operator pause resume snapshots storage blueprint demo sandbox executor __complete help" -f -a "crds" -d 'Print the CustomResourceDefinitions, or write them to a directory'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and not __fish_seen_subcommand_from version crds completion validate backup restore install uninstall operator pause resume snapshots storage blueprint demo sandbox executor __complete help" -f -a "completion" -d 'Print a shell completion script'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and not __fish_seen_subcommand_from version crds completion validate backup restore install uninstall operator pause resume snapshots storage blueprint demo sandbox executor __complete help" -f -a "validate" -d 'Check KubeStash manifests against the API and the admission rules, without a cluster'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and not __fish_seen_subcommand_from version crds completion validate backup restore install uninstall operator pause resume snapshots storage blueprint demo sandbox executor __complete help" -f -a "backup" -d 'Back up now: create BackupSession(s) and optionally wait for the outcome'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and not __fish_seen_subcommand_from version crds completion validate backup restore install uninstall operator pause resume snapshots storage blueprint demo sandbox executor __complete help" -f -a "restore" -d 'Restore a snapshot into a workload or PVC, or manifests into the cluster'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and not __fish_seen_subcommand_from version crds completion validate backup restore install uninstall operator pause resume snapshots storage blueprint demo sandbox executor __complete help" -f -a "install" -d 'Install the CRDs, RBAC, default catalog and operator Deployment'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and not __fish_seen_subcommand_from version crds completion validate backup restore install uninstall operator pause resume snapshots storage blueprint demo sandbox executor __complete help" -f -a "uninstall" -d 'Remove what `install` applied (the CRDs only with --include-crds)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and not __fish_seen_subcommand_from version crds completion validate backup restore install uninstall operator pause resume snapshots storage blueprint demo sandbox executor __complete help" -f -a "operator" -d 'Run the operator (every controller) in the foreground'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and not __fish_seen_subcommand_from version crds completion validate backup restore install uninstall operator pause resume snapshots storage blueprint demo sandbox executor __complete help" -f -a "pause" -d 'Pause the schedules of a BackupConfiguration or, with --batch, a BackupBatch (sets spec.paused)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and not __fish_seen_subcommand_from version crds completion validate backup restore install uninstall operator pause resume snapshots storage blueprint demo sandbox executor __complete help" -f -a "resume" -d 'Resume a paused BackupConfiguration or, with --batch, BackupBatch'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and not __fish_seen_subcommand_from version crds completion validate backup restore install uninstall operator pause resume snapshots storage blueprint demo sandbox executor __complete help" -f -a "snapshots" -d 'List and describe snapshots'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and not __fish_seen_subcommand_from version crds completion validate backup restore install uninstall operator pause resume snapshots storage blueprint demo sandbox executor __complete help" -f -a "storage" -d 'Set up, list and check BackupStorages'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and not __fish_seen_subcommand_from version crds completion validate backup restore install uninstall operator pause resume snapshots storage blueprint demo sandbox executor __complete help" -f -a "blueprint" -d 'Preview what auto-backup creates from a BackupBlueprint'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and not __fish_seen_subcommand_from version crds completion validate backup restore install uninstall operator pause resume snapshots storage blueprint demo sandbox executor __complete help" -f -a "demo" -d 'Try it in 30 seconds: back up, delete and restore a workload\'s files on a built-in cluster'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and not __fish_seen_subcommand_from version crds completion validate backup restore install uninstall operator pause resume snapshots storage blueprint demo sandbox executor __complete help" -f -a "sandbox" -d 'Run the built-in sandbox cluster (an in-memory API server) in the foreground'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and not __fish_seen_subcommand_from version crds completion validate backup restore install uninstall operator pause resume snapshots storage blueprint demo sandbox executor __complete help" -f -a "executor" -d 'Steps that run inside backup and restore Jobs'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and not __fish_seen_subcommand_from version crds completion validate backup restore install uninstall operator pause resume snapshots storage blueprint demo sandbox executor __complete help" -f -a "__complete" -d 'Complete a partial command line (used by the `kubectl_complete-kubestash` shim)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and not __fish_seen_subcommand_from version crds completion validate backup restore install uninstall operator pause resume snapshots storage blueprint demo sandbox executor __complete help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and __fish_seen_subcommand_from backup" -f -a "now" -d 'Trigger a backup of a BackupConfiguration (or, with --batch, a BackupBatch) now'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and __fish_seen_subcommand_from operator" -f -a "run" -d 'Run the operator in the foreground (Lease namespace from -n, default `kubestash`)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and __fish_seen_subcommand_from snapshots" -f -a "list" -d 'List snapshots, newest first'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and __fish_seen_subcommand_from snapshots" -f -a "describe" -d 'Show a snapshot\'s components, paths, restic ids, sizes and integrity'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and __fish_seen_subcommand_from storage" -f -a "setup" -d 'Create a BackupStorage and its credentials Secret, wait for Ready, check connectivity'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and __fish_seen_subcommand_from storage" -f -a "list" -d 'List BackupStorages'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and __fish_seen_subcommand_from storage" -f -a "check" -d 'Check a BackupStorage: write, read back and delete a probe object'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and __fish_seen_subcommand_from blueprint" -f -a "preview" -d 'Print the BackupConfiguration a blueprint creates for a target; exit 2 naming every unresolved `${variable}`'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and __fish_seen_subcommand_from executor" -f -a "backup" -d 'Back up one component of a BackupSession'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and __fish_seen_subcommand_from executor" -f -a "restore" -d 'Restore one component of a Snapshot for a RestoreSession'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and __fish_seen_subcommand_from executor" -f -a "trigger" -d 'Create a BackupSession (what a session\'s CronJob runs)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and __fish_seen_subcommand_from executor" -f -a "sync-storage" -d 'Initialize a volume backend from a Job that mounts it'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and __fish_seen_subcommand_from executor" -f -a "retention" -d 'Apply the retention policies after a BackupSession'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and __fish_seen_subcommand_from executor" -f -a "check-volume" -d 'Probe a volume backend: write, read back and delete an object (`storage check`)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and __fish_seen_subcommand_from executor" -f -a "list-manifests" -d 'List the objects of a manifest snapshot on a volume (`restore --dry-run`)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and __fish_seen_subcommand_from executor" -f -a "wipe-snapshot" -d 'Remove a deleted WipeOut Snapshot\'s data from the backend, then release it'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and __fish_seen_subcommand_from executor" -f -a "wipe-volume" -d 'Empty a volume directory (WipeOut delete of a Repository or BackupStorage)'
