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

complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_needs_command" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
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
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_needs_command" -f -a "pause" -d 'Pause a BackupConfiguration\'s schedules (sets spec.paused)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_needs_command" -f -a "resume" -d 'Resume a paused BackupConfiguration'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_needs_command" -f -a "snapshots" -d 'List and describe snapshots'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_needs_command" -f -a "blueprint" -d 'Preview what auto-backup creates from a BackupBlueprint'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_needs_command" -f -a "sandbox" -d 'Run the built-in sandbox cluster (an in-memory API server) in the foreground'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_needs_command" -f -a "__complete" -d 'Complete a partial command line (used by the `kubectl_complete-kubestash` shim)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand version" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand version" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand version" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand version" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand version" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand version" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand crds" -l out -d 'Write one file per CRD (`<group>_<plural>.yaml`) into this directory instead of printing' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand crds" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand crds" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand crds" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand crds" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand crds" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand crds" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand completion" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand completion" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand completion" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand completion" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand completion" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand completion" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand validate" -s f -l filename -d 'A file, a directory of .yaml/.yml/.json files, or `-` for stdin; repeatable' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand validate" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand validate" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand validate" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand validate" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand validate" -s R -l recursive -d 'Walk directories recursively'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand validate" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand validate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand pause" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand pause" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand pause" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand pause" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand pause" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand pause" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand resume" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand resume" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand resume" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand resume" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand resume" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand resume" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand snapshots; and not __fish_seen_subcommand_from list describe help" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
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
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand snapshots; and __fish_seen_subcommand_from list" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand snapshots; and __fish_seen_subcommand_from list" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand snapshots; and __fish_seen_subcommand_from list" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand snapshots; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand snapshots; and __fish_seen_subcommand_from list" -s A -l all-namespaces -d 'List snapshots of every namespace'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand snapshots; and __fish_seen_subcommand_from list" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand snapshots; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand snapshots; and __fish_seen_subcommand_from describe" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
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
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand blueprint; and not __fish_seen_subcommand_from preview help" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
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
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand blueprint; and __fish_seen_subcommand_from preview" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand blueprint; and __fish_seen_subcommand_from preview" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand blueprint; and __fish_seen_subcommand_from preview" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand blueprint; and __fish_seen_subcommand_from preview" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand blueprint; and __fish_seen_subcommand_from preview" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand blueprint; and __fish_seen_subcommand_from preview" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand blueprint; and __fish_seen_subcommand_from help" -f -a "preview" -d 'Print the BackupConfiguration a blueprint creates for a target; exit 2 naming every unresolved `${variable}`'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand blueprint; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand sandbox" -l data-dir -d 'Directory for volumes and pod files (default: a temporary directory removed on exit)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand sandbox" -l port -d 'Port of the API server on 127.0.0.1 (default: a free one)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand sandbox" -l kubeconfig-out -d 'Write the kubeconfig for the sandbox to this path' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand sandbox" -l image -d 'Image whose pods run as local processes of this binary' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand sandbox" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand sandbox" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand sandbox" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand sandbox" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand sandbox" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand sandbox" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand __complete" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand __complete" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand __complete" -s n -l namespace -d 'Namespace of the objects (default: the context\'s namespace)' -r
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand __complete" -s o -l output -d 'Output format of read commands' -r -f -a "table\t'A human-readable table'
json\t'JSON'
yaml\t'YAML'"
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand __complete" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand __complete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and not __fish_seen_subcommand_from version crds completion validate pause resume snapshots blueprint sandbox __complete help" -f -a "version" -d 'Print the version of the plugin and of the API it serves'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and not __fish_seen_subcommand_from version crds completion validate pause resume snapshots blueprint sandbox __complete help" -f -a "crds" -d 'Print the CustomResourceDefinitions, or write them to a directory'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and not __fish_seen_subcommand_from version crds completion validate pause resume snapshots blueprint sandbox __complete help" -f -a "completion" -d 'Print a shell completion script'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and not __fish_seen_subcommand_from version crds completion validate pause resume snapshots blueprint sandbox __complete help" -f -a "validate" -d 'Check KubeStash manifests against the API and the admission rules, without a cluster'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and not __fish_seen_subcommand_from version crds completion validate pause resume snapshots blueprint sandbox __complete help" -f -a "pause" -d 'Pause a BackupConfiguration\'s schedules (sets spec.paused)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and not __fish_seen_subcommand_from version crds completion validate pause resume snapshots blueprint sandbox __complete help" -f -a "resume" -d 'Resume a paused BackupConfiguration'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and not __fish_seen_subcommand_from version crds completion validate pause resume snapshots blueprint sandbox __complete help" -f -a "snapshots" -d 'List and describe snapshots'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and not __fish_seen_subcommand_from version crds completion validate pause resume snapshots blueprint sandbox __complete help" -f -a "blueprint" -d 'Preview what auto-backup creates from a BackupBlueprint'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and not __fish_seen_subcommand_from version crds completion validate pause resume snapshots blueprint sandbox __complete help" -f -a "sandbox" -d 'Run the built-in sandbox cluster (an in-memory API server) in the foreground'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and not __fish_seen_subcommand_from version crds completion validate pause resume snapshots blueprint sandbox __complete help" -f -a "__complete" -d 'Complete a partial command line (used by the `kubectl_complete-kubestash` shim)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and not __fish_seen_subcommand_from version crds completion validate pause resume snapshots blueprint sandbox __complete help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and __fish_seen_subcommand_from snapshots" -f -a "list" -d 'List snapshots, newest first'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and __fish_seen_subcommand_from snapshots" -f -a "describe" -d 'Show a snapshot\'s components, paths, restic ids, sizes and integrity'
complete -c kubectl-kubestash -n "__fish_kubectl_kubestash_using_subcommand help; and __fish_seen_subcommand_from blueprint" -f -a "preview" -d 'Print the BackupConfiguration a blueprint creates for a target; exit 2 naming every unresolved `${variable}`'
