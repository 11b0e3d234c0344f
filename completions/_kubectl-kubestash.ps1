
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'kubectl-kubestash' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'kubectl-kubestash'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'kubectl-kubestash' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl''s does, or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('version', 'version', [CompletionResultType]::ParameterValue, 'Print the version of the plugin and of the API it serves')
            [CompletionResult]::new('crds', 'crds', [CompletionResultType]::ParameterValue, 'Print the CustomResourceDefinitions, or write them to a directory')
            [CompletionResult]::new('completion', 'completion', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Check KubeStash manifests against the API and the admission rules, without a cluster')
            [CompletionResult]::new('backup', 'backup', [CompletionResultType]::ParameterValue, 'Back up now: create BackupSession(s) and optionally wait for the outcome')
            [CompletionResult]::new('restore', 'restore', [CompletionResultType]::ParameterValue, 'Restore a snapshot into a workload or PVC, or manifests into the cluster')
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Install the CRDs, RBAC, default catalog and operator Deployment')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Remove what `install` applied (the CRDs only with --include-crds)')
            [CompletionResult]::new('operator', 'operator', [CompletionResultType]::ParameterValue, 'Run the operator (every controller) in the foreground')
            [CompletionResult]::new('pause', 'pause', [CompletionResultType]::ParameterValue, 'Pause the schedules of a BackupConfiguration or, with --batch, a BackupBatch (sets spec.paused)')
            [CompletionResult]::new('resume', 'resume', [CompletionResultType]::ParameterValue, 'Resume a paused BackupConfiguration or, with --batch, BackupBatch')
            [CompletionResult]::new('snapshots', 'snapshots', [CompletionResultType]::ParameterValue, 'List and describe snapshots')
            [CompletionResult]::new('storage', 'storage', [CompletionResultType]::ParameterValue, 'Set up, list and check BackupStorages')
            [CompletionResult]::new('blueprint', 'blueprint', [CompletionResultType]::ParameterValue, 'Preview what auto-backup creates from a BackupBlueprint')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Try it in 30 seconds: back up, delete and restore a workload''s files on a built-in cluster')
            [CompletionResult]::new('sandbox', 'sandbox', [CompletionResultType]::ParameterValue, 'Run the built-in sandbox cluster (an in-memory API server) in the foreground')
            [CompletionResult]::new('executor', 'executor', [CompletionResultType]::ParameterValue, 'Steps that run inside backup and restore Jobs')
            [CompletionResult]::new('__complete', '__complete', [CompletionResultType]::ParameterValue, 'Complete a partial command line (used by the `kubectl_complete-kubestash` shim)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-kubestash;version' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl''s does, or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-kubestash;crds' {
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Write one file per CRD (`<group>_<plural>.yaml`) into this directory instead of printing')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl''s does, or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-kubestash;completion' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl''s does, or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-kubestash;validate' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'A file, a directory of .yaml/.yml/.json files, or `-` for stdin; repeatable')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'A file, a directory of .yaml/.yml/.json files, or `-` for stdin; repeatable')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl''s does, or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('-R', '-R ', [CompletionResultType]::ParameterName, 'Walk directories recursively')
            [CompletionResult]::new('--recursive', '--recursive', [CompletionResultType]::ParameterName, 'Walk directories recursively')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-kubestash;backup' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl''s does, or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('now', 'now', [CompletionResultType]::ParameterValue, 'Trigger a backup of a BackupConfiguration (or, with --batch, a BackupBatch) now')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-kubestash;backup;now' {
            [CompletionResult]::new('--session', '--session', [CompletionResultType]::ParameterName, 'Only these sessions (default: every session)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait (Go duration: 90s, 10m, 1h)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl''s does, or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--batch', '--batch', [CompletionResultType]::ParameterName, 'The name is a BackupBatch: one session backs up all of its targets')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Wait until the sessions end, and exit with their outcome')
            [CompletionResult]::new('--follow-retries', '--follow-retries', [CompletionResultType]::ParameterName, 'With --wait: when a session fails and its retryConfig leaves retries, wait for the operator''s retry and exit with the last attempt''s outcome')
            [CompletionResult]::new('--embedded', '--embedded', [CompletionResultType]::ParameterName, 'With --wait: run the controllers in this process even if an operator is running')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-kubestash;backup;help' {
            [CompletionResult]::new('now', 'now', [CompletionResultType]::ParameterValue, 'Trigger a backup of a BackupConfiguration (or, with --batch, a BackupBatch) now')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-kubestash;backup;help;now' {
            break
        }
        'kubectl-kubestash;backup;help;help' {
            break
        }
        'kubectl-kubestash;restore' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'A RestoreSession manifest to create instead of building one from flags')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'A RestoreSession manifest to create instead of building one from flags')
            [CompletionResult]::new('--from-repository', '--from-repository', [CompletionResultType]::ParameterName, 'The Repository to restore from')
            [CompletionResult]::new('--repository-namespace', '--repository-namespace', [CompletionResultType]::ParameterName, 'Namespace of the Repository (default: the restore''s namespace)')
            [CompletionResult]::new('--snapshot', '--snapshot', [CompletionResultType]::ParameterName, 'Snapshot name, or `latest`')
            [CompletionResult]::new('--target', '--target', [CompletionResultType]::ParameterName, 'What to restore into: deployment/NAME, statefulset/NAME, pvc/NAME (omit for manifests)')
            [CompletionResult]::new('--components', '--components', [CompletionResultType]::ParameterName, 'Only these components (comma-separated)')
            [CompletionResult]::new('--include', '--include', [CompletionResultType]::ParameterName, 'Only these paths of the snapshot, restic-style (comma-separated): `/data/app` takes that directory and what is in it, `*.sql` matches at any depth')
            [CompletionResult]::new('--exclude', '--exclude', [CompletionResultType]::ParameterName, 'Leave out these paths of the snapshot, restic-style (comma-separated)')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Name of the RestoreSession (default: generated)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl''s does, or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the RestoreSession instead of creating it')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Wait until the restore ends, and exit with its outcome')
            [CompletionResult]::new('--embedded', '--embedded', [CompletionResultType]::ParameterName, 'With --wait: run the controllers in this process even if an operator is running')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-kubestash;install' {
            [CompletionResult]::new('--image', '--image', [CompletionResultType]::ParameterName, 'Image of the operator and its Jobs')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl''s does, or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the bundle instead of applying it (-o yaml|json)')
            [CompletionResult]::new('--no-operator', '--no-operator', [CompletionResultType]::ParameterName, 'Leave the operator Deployment out (run `operator run` elsewhere, or let one-shot commands embed it)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Wait until the operator holds its leader Lease')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-kubestash;uninstall' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl''s does, or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--include-crds', '--include-crds', [CompletionResultType]::ParameterName, 'Also delete the CRDs, and with them every KubeStash object in the cluster')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-kubestash;operator' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl''s does, or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run the operator in the foreground (Lease namespace from -n, default `kubestash`)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-kubestash;operator;run' {
            [CompletionResult]::new('--image', '--image', [CompletionResultType]::ParameterName, 'Image of the backup, restore and trigger Jobs')
            [CompletionResult]::new('--metrics-addr', '--metrics-addr', [CompletionResultType]::ParameterName, 'Serve /metrics, /healthz and /readyz here (e.g. 127.0.0.1:8080)')
            [CompletionResult]::new('--pending-pod-timeout', '--pending-pod-timeout', [CompletionResultType]::ParameterName, 'Fail a backup or restore component whose Job''s pod stays Pending this long (an image that cannot be pulled, a pod that cannot be scheduled); 0 waits for the session''s own timeout')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl''s does, or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--no-bootstrap', '--no-bootstrap', [CompletionResultType]::ParameterName, 'Do not apply the CRDs and the default catalog at start')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-kubestash;operator;help' {
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run the operator in the foreground (Lease namespace from -n, default `kubestash`)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-kubestash;operator;help;run' {
            break
        }
        'kubectl-kubestash;operator;help;help' {
            break
        }
        'kubectl-kubestash;pause' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl''s does, or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--batch', '--batch', [CompletionResultType]::ParameterName, 'The name is a BackupBatch')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-kubestash;resume' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl''s does, or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--batch', '--batch', [CompletionResultType]::ParameterName, 'The name is a BackupBatch')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-kubestash;snapshots' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl''s does, or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List snapshots, newest first')
            [CompletionResult]::new('describe', 'describe', [CompletionResultType]::ParameterValue, 'Show a snapshot''s components, paths, restic ids, sizes and integrity')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-kubestash;snapshots;list' {
            [CompletionResult]::new('--repository', '--repository', [CompletionResultType]::ParameterName, 'Only snapshots of this Repository')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Only snapshots of this BackupConfiguration''s repositories')
            [CompletionResult]::new('--batch', '--batch', [CompletionResultType]::ParameterName, 'Only snapshots of this BackupBatch''s repositories (every target''s)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl''s does, or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'List snapshots of every namespace')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'List snapshots of every namespace')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-kubestash;snapshots;describe' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl''s does, or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-kubestash;snapshots;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List snapshots, newest first')
            [CompletionResult]::new('describe', 'describe', [CompletionResultType]::ParameterValue, 'Show a snapshot''s components, paths, restic ids, sizes and integrity')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-kubestash;snapshots;help;list' {
            break
        }
        'kubectl-kubestash;snapshots;help;describe' {
            break
        }
        'kubectl-kubestash;snapshots;help;help' {
            break
        }
        'kubectl-kubestash;storage' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl''s does, or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('setup', 'setup', [CompletionResultType]::ParameterValue, 'Create a BackupStorage and its credentials Secret, wait for Ready, check connectivity')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List BackupStorages')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check a BackupStorage: write, read back and delete a probe object')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-kubestash;storage;setup' {
            [CompletionResult]::new('--provider', '--provider', [CompletionResultType]::ParameterName, 'Backend provider')
            [CompletionResult]::new('--bucket', '--bucket', [CompletionResultType]::ParameterName, 'Bucket (s3, gcs)')
            [CompletionResult]::new('--endpoint', '--endpoint', [CompletionResultType]::ParameterName, 'S3 endpoint URL (default: https://s3.amazonaws.com)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'S3 region')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'PEM file of the CA behind the S3 endpoint''s certificate; stored as CA_CERT_DATA in the Secret --secret-from-env creates')
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Path prefix inside the bucket or container (s3, gcs, azure)')
            [CompletionResult]::new('--storage-account', '--storage-account', [CompletionResultType]::ParameterName, 'Azure storage account')
            [CompletionResult]::new('--container', '--container', [CompletionResultType]::ParameterName, 'Azure container')
            [CompletionResult]::new('--host-path', '--host-path', [CompletionResultType]::ParameterName, 'Directory on the node (local)')
            [CompletionResult]::new('--pvc', '--pvc', [CompletionResultType]::ParameterName, 'PersistentVolumeClaim in the storage''s namespace (local)')
            [CompletionResult]::new('--nfs-server', '--nfs-server', [CompletionResultType]::ParameterName, 'NFS server (local; with --nfs-path)')
            [CompletionResult]::new('--nfs-path', '--nfs-path', [CompletionResultType]::ParameterName, 'Exported path on the NFS server (local)')
            [CompletionResult]::new('--mount-path', '--mount-path', [CompletionResultType]::ParameterName, 'Where backup Jobs mount the volume (local)')
            [CompletionResult]::new('--sub-path', '--sub-path', [CompletionResultType]::ParameterName, 'Directory inside the volume (local)')
            [CompletionResult]::new('--secret', '--secret', [CompletionResultType]::ParameterName, 'Credentials Secret: an existing one, or the name to create with --secret-from-env (default name: <storage>-credentials)')
            [CompletionResult]::new('--usage-policy', '--usage-policy', [CompletionResultType]::ParameterName, 'Which namespaces may use it')
            [CompletionResult]::new('--deletion-policy', '--deletion-policy', [CompletionResultType]::ParameterName, 'What deleting the BackupStorage does to the data')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for Ready and the check, e.g. 2m')
            [CompletionResult]::new('--image', '--image', [CompletionResultType]::ParameterName, 'Image of the check Job for volume storages')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl''s does, or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--insecure-tls', '--insecure-tls', [CompletionResultType]::ParameterName, 'Accept the S3 endpoint''s certificate without verifying it')
            [CompletionResult]::new('--secret-from-env', '--secret-from-env', [CompletionResultType]::ParameterName, 'Create the credentials Secret from the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; GOOGLE_SERVICE_ACCOUNT_JSON_KEY; AZURE_ACCOUNT_KEY)')
            [CompletionResult]::new('--default', '--default', [CompletionResultType]::ParameterName, 'Make it the default BackupStorage')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the objects (Secret values redacted) instead of creating them')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Never prompt, even on a terminal')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-kubestash;storage;list' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl''s does, or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'List storages of every namespace')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'List storages of every namespace')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-kubestash;storage;check' {
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the check, e.g. 1m')
            [CompletionResult]::new('--image', '--image', [CompletionResultType]::ParameterName, 'Image of the check Job for volume storages')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl''s does, or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-kubestash;storage;help' {
            [CompletionResult]::new('setup', 'setup', [CompletionResultType]::ParameterValue, 'Create a BackupStorage and its credentials Secret, wait for Ready, check connectivity')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List BackupStorages')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check a BackupStorage: write, read back and delete a probe object')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-kubestash;storage;help;setup' {
            break
        }
        'kubectl-kubestash;storage;help;list' {
            break
        }
        'kubectl-kubestash;storage;help;check' {
            break
        }
        'kubectl-kubestash;storage;help;help' {
            break
        }
        'kubectl-kubestash;blueprint' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl''s does, or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('preview', 'preview', [CompletionResultType]::ParameterValue, 'Print the BackupConfiguration a blueprint creates for a target; exit 2 naming every unresolved `${variable}`')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-kubestash;blueprint;preview' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Read the blueprint from this file instead of the cluster')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'Read the blueprint from this file instead of the cluster')
            [CompletionResult]::new('--target', '--target', [CompletionResultType]::ParameterName, 'The target in the cluster, as KIND/NAME (e.g. deployment/orders) in -n''s namespace')
            [CompletionResult]::new('--target-file', '--target-file', [CompletionResultType]::ParameterName, 'Read the target from this file instead of the cluster')
            [CompletionResult]::new('--blueprint-namespace', '--blueprint-namespace', [CompletionResultType]::ParameterName, 'Namespace of the blueprint (default: the target''s annotation, else -n''s namespace)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl''s does, or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-kubestash;blueprint;help' {
            [CompletionResult]::new('preview', 'preview', [CompletionResultType]::ParameterValue, 'Print the BackupConfiguration a blueprint creates for a target; exit 2 naming every unresolved `${variable}`')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-kubestash;blueprint;help;preview' {
            break
        }
        'kubectl-kubestash;blueprint;help;help' {
            break
        }
        'kubectl-kubestash;demo' {
            [CompletionResult]::new('--keep-dir', '--keep-dir', [CompletionResultType]::ParameterName, 'Keep the sandbox data and the backup storage in this directory (it must be empty or absent); without it everything lives in a temporary directory removed at the end')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl''s does, or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-kubestash;sandbox' {
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'Directory for volumes and pod files (default: a temporary directory removed on exit)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port of the API server on 127.0.0.1 (default: a free one)')
            [CompletionResult]::new('--kubeconfig-out', '--kubeconfig-out', [CompletionResultType]::ParameterName, 'Write the kubeconfig for the sandbox to this path')
            [CompletionResult]::new('--image', '--image', [CompletionResultType]::ParameterName, 'Image whose pods run as local processes of this binary')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl''s does, or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-kubestash;executor' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl''s does, or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('backup', 'backup', [CompletionResultType]::ParameterValue, 'Back up one component of a BackupSession')
            [CompletionResult]::new('restore', 'restore', [CompletionResultType]::ParameterValue, 'Restore one component of a Snapshot for a RestoreSession')
            [CompletionResult]::new('trigger', 'trigger', [CompletionResultType]::ParameterValue, 'Create a BackupSession (what a session''s CronJob runs)')
            [CompletionResult]::new('sync-storage', 'sync-storage', [CompletionResultType]::ParameterValue, 'Initialize a volume backend from a Job that mounts it')
            [CompletionResult]::new('retention', 'retention', [CompletionResultType]::ParameterValue, 'Apply the retention policies after a BackupSession')
            [CompletionResult]::new('check-volume', 'check-volume', [CompletionResultType]::ParameterValue, 'Probe a volume backend: write, read back and delete an object (`storage check`)')
            [CompletionResult]::new('list-manifests', 'list-manifests', [CompletionResultType]::ParameterValue, 'List the objects of a manifest snapshot on a volume (`restore --dry-run`)')
            [CompletionResult]::new('wipe-snapshot', 'wipe-snapshot', [CompletionResultType]::ParameterValue, 'Remove a deleted WipeOut Snapshot''s data from the backend, then release it')
            [CompletionResult]::new('wipe-volume', 'wipe-volume', [CompletionResultType]::ParameterValue, 'Empty a volume directory (WipeOut delete of a Repository or BackupStorage)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-kubestash;executor;backup' {
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'paths or manifest')
            [CompletionResult]::new('--backupsession', '--backupsession', [CompletionResultType]::ParameterName, 'The BackupSession')
            [CompletionResult]::new('--component', '--component', [CompletionResultType]::ParameterName, 'The component')
            [CompletionResult]::new('--param', '--param', [CompletionResultType]::ParameterName, 'A task parameter, key=value (repeatable)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl''s does, or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-kubestash;executor;restore' {
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'paths or manifest')
            [CompletionResult]::new('--restoresession', '--restoresession', [CompletionResultType]::ParameterName, 'The RestoreSession')
            [CompletionResult]::new('--snapshot', '--snapshot', [CompletionResultType]::ParameterName, 'The Snapshot')
            [CompletionResult]::new('--component', '--component', [CompletionResultType]::ParameterName, 'The component')
            [CompletionResult]::new('--param', '--param', [CompletionResultType]::ParameterName, 'A task parameter, key=value (repeatable)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl''s does, or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-kubestash;executor;trigger' {
            [CompletionResult]::new('--invoker-kind', '--invoker-kind', [CompletionResultType]::ParameterName, 'Invoker kind')
            [CompletionResult]::new('--invoker-name', '--invoker-name', [CompletionResultType]::ParameterName, 'Invoker name')
            [CompletionResult]::new('--session', '--session', [CompletionResultType]::ParameterName, 'Session name')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl''s does, or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-kubestash;executor;sync-storage' {
            [CompletionResult]::new('--storage', '--storage', [CompletionResultType]::ParameterName, 'The BackupStorage')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl''s does, or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-kubestash;executor;retention' {
            [CompletionResult]::new('--backupsession', '--backupsession', [CompletionResultType]::ParameterName, 'The BackupSession')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl''s does, or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-kubestash;executor;check-volume' {
            [CompletionResult]::new('--path', '--path', [CompletionResultType]::ParameterName, 'The backend directory inside the container (mount path and subPath)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl''s does, or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-kubestash;executor;list-manifests' {
            [CompletionResult]::new('--path', '--path', [CompletionResultType]::ParameterName, 'The component repository inside the container')
            [CompletionResult]::new('--snapshot-id', '--snapshot-id', [CompletionResultType]::ParameterName, 'The restic snapshot id')
            [CompletionResult]::new('--param', '--param', [CompletionResultType]::ParameterName, 'A restore task parameter, key=value (repeatable)')
            [CompletionResult]::new('--restore-namespace', '--restore-namespace', [CompletionResultType]::ParameterName, 'Namespace the objects would be moved into')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl''s does, or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-kubestash;executor;wipe-snapshot' {
            [CompletionResult]::new('--snapshot', '--snapshot', [CompletionResultType]::ParameterName, 'The Snapshot')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl''s does, or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-kubestash;executor;wipe-volume' {
            [CompletionResult]::new('--path', '--path', [CompletionResultType]::ParameterName, 'The backend directory inside the container (mount path and subPath)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl''s does, or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-kubestash;executor;help' {
            [CompletionResult]::new('backup', 'backup', [CompletionResultType]::ParameterValue, 'Back up one component of a BackupSession')
            [CompletionResult]::new('restore', 'restore', [CompletionResultType]::ParameterValue, 'Restore one component of a Snapshot for a RestoreSession')
            [CompletionResult]::new('trigger', 'trigger', [CompletionResultType]::ParameterValue, 'Create a BackupSession (what a session''s CronJob runs)')
            [CompletionResult]::new('sync-storage', 'sync-storage', [CompletionResultType]::ParameterValue, 'Initialize a volume backend from a Job that mounts it')
            [CompletionResult]::new('retention', 'retention', [CompletionResultType]::ParameterValue, 'Apply the retention policies after a BackupSession')
            [CompletionResult]::new('check-volume', 'check-volume', [CompletionResultType]::ParameterValue, 'Probe a volume backend: write, read back and delete an object (`storage check`)')
            [CompletionResult]::new('list-manifests', 'list-manifests', [CompletionResultType]::ParameterValue, 'List the objects of a manifest snapshot on a volume (`restore --dry-run`)')
            [CompletionResult]::new('wipe-snapshot', 'wipe-snapshot', [CompletionResultType]::ParameterValue, 'Remove a deleted WipeOut Snapshot''s data from the backend, then release it')
            [CompletionResult]::new('wipe-volume', 'wipe-volume', [CompletionResultType]::ParameterValue, 'Empty a volume directory (WipeOut delete of a Repository or BackupStorage)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-kubestash;executor;help;backup' {
            break
        }
        'kubectl-kubestash;executor;help;restore' {
            break
        }
        'kubectl-kubestash;executor;help;trigger' {
            break
        }
        'kubectl-kubestash;executor;help;sync-storage' {
            break
        }
        'kubectl-kubestash;executor;help;retention' {
            break
        }
        'kubectl-kubestash;executor;help;check-volume' {
            break
        }
        'kubectl-kubestash;executor;help;list-manifests' {
            break
        }
        'kubectl-kubestash;executor;help;wipe-snapshot' {
            break
        }
        'kubectl-kubestash;executor;help;wipe-volume' {
            break
        }
        'kubectl-kubestash;executor;help;help' {
            break
        }
        'kubectl-kubestash;__complete' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as kubectl''s does, or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the context''s namespace)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of read commands')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-kubestash;help' {
            [CompletionResult]::new('version', 'version', [CompletionResultType]::ParameterValue, 'Print the version of the plugin and of the API it serves')
            [CompletionResult]::new('crds', 'crds', [CompletionResultType]::ParameterValue, 'Print the CustomResourceDefinitions, or write them to a directory')
            [CompletionResult]::new('completion', 'completion', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Check KubeStash manifests against the API and the admission rules, without a cluster')
            [CompletionResult]::new('backup', 'backup', [CompletionResultType]::ParameterValue, 'Back up now: create BackupSession(s) and optionally wait for the outcome')
            [CompletionResult]::new('restore', 'restore', [CompletionResultType]::ParameterValue, 'Restore a snapshot into a workload or PVC, or manifests into the cluster')
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Install the CRDs, RBAC, default catalog and operator Deployment')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Remove what `install` applied (the CRDs only with --include-crds)')
            [CompletionResult]::new('operator', 'operator', [CompletionResultType]::ParameterValue, 'Run the operator (every controller) in the foreground')
            [CompletionResult]::new('pause', 'pause', [CompletionResultType]::ParameterValue, 'Pause the schedules of a BackupConfiguration or, with --batch, a BackupBatch (sets spec.paused)')
            [CompletionResult]::new('resume', 'resume', [CompletionResultType]::ParameterValue, 'Resume a paused BackupConfiguration or, with --batch, BackupBatch')
            [CompletionResult]::new('snapshots', 'snapshots', [CompletionResultType]::ParameterValue, 'List and describe snapshots')
            [CompletionResult]::new('storage', 'storage', [CompletionResultType]::ParameterValue, 'Set up, list and check BackupStorages')
            [CompletionResult]::new('blueprint', 'blueprint', [CompletionResultType]::ParameterValue, 'Preview what auto-backup creates from a BackupBlueprint')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Try it in 30 seconds: back up, delete and restore a workload''s files on a built-in cluster')
            [CompletionResult]::new('sandbox', 'sandbox', [CompletionResultType]::ParameterValue, 'Run the built-in sandbox cluster (an in-memory API server) in the foreground')
            [CompletionResult]::new('executor', 'executor', [CompletionResultType]::ParameterValue, 'Steps that run inside backup and restore Jobs')
            [CompletionResult]::new('__complete', '__complete', [CompletionResultType]::ParameterValue, 'Complete a partial command line (used by the `kubectl_complete-kubestash` shim)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-kubestash;help;version' {
            break
        }
        'kubectl-kubestash;help;crds' {
            break
        }
        'kubectl-kubestash;help;completion' {
            break
        }
        'kubectl-kubestash;help;validate' {
            break
        }
        'kubectl-kubestash;help;backup' {
            [CompletionResult]::new('now', 'now', [CompletionResultType]::ParameterValue, 'Trigger a backup of a BackupConfiguration (or, with --batch, a BackupBatch) now')
            break
        }
        'kubectl-kubestash;help;backup;now' {
            break
        }
        'kubectl-kubestash;help;restore' {
            break
        }
        'kubectl-kubestash;help;install' {
            break
        }
        'kubectl-kubestash;help;uninstall' {
            break
        }
        'kubectl-kubestash;help;operator' {
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run the operator in the foreground (Lease namespace from -n, default `kubestash`)')
            break
        }
        'kubectl-kubestash;help;operator;run' {
            break
        }
        'kubectl-kubestash;help;pause' {
            break
        }
        'kubectl-kubestash;help;resume' {
            break
        }
        'kubectl-kubestash;help;snapshots' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List snapshots, newest first')
            [CompletionResult]::new('describe', 'describe', [CompletionResultType]::ParameterValue, 'Show a snapshot''s components, paths, restic ids, sizes and integrity')
            break
        }
        'kubectl-kubestash;help;snapshots;list' {
            break
        }
        'kubectl-kubestash;help;snapshots;describe' {
            break
        }
        'kubectl-kubestash;help;storage' {
            [CompletionResult]::new('setup', 'setup', [CompletionResultType]::ParameterValue, 'Create a BackupStorage and its credentials Secret, wait for Ready, check connectivity')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List BackupStorages')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check a BackupStorage: write, read back and delete a probe object')
            break
        }
        'kubectl-kubestash;help;storage;setup' {
            break
        }
        'kubectl-kubestash;help;storage;list' {
            break
        }
        'kubectl-kubestash;help;storage;check' {
            break
        }
        'kubectl-kubestash;help;blueprint' {
            [CompletionResult]::new('preview', 'preview', [CompletionResultType]::ParameterValue, 'Print the BackupConfiguration a blueprint creates for a target; exit 2 naming every unresolved `${variable}`')
            break
        }
        'kubectl-kubestash;help;blueprint;preview' {
            break
        }
        'kubectl-kubestash;help;demo' {
            break
        }
        'kubectl-kubestash;help;sandbox' {
            break
        }
        'kubectl-kubestash;help;executor' {
            [CompletionResult]::new('backup', 'backup', [CompletionResultType]::ParameterValue, 'Back up one component of a BackupSession')
            [CompletionResult]::new('restore', 'restore', [CompletionResultType]::ParameterValue, 'Restore one component of a Snapshot for a RestoreSession')
            [CompletionResult]::new('trigger', 'trigger', [CompletionResultType]::ParameterValue, 'Create a BackupSession (what a session''s CronJob runs)')
            [CompletionResult]::new('sync-storage', 'sync-storage', [CompletionResultType]::ParameterValue, 'Initialize a volume backend from a Job that mounts it')
            [CompletionResult]::new('retention', 'retention', [CompletionResultType]::ParameterValue, 'Apply the retention policies after a BackupSession')
            [CompletionResult]::new('check-volume', 'check-volume', [CompletionResultType]::ParameterValue, 'Probe a volume backend: write, read back and delete an object (`storage check`)')
            [CompletionResult]::new('list-manifests', 'list-manifests', [CompletionResultType]::ParameterValue, 'List the objects of a manifest snapshot on a volume (`restore --dry-run`)')
            [CompletionResult]::new('wipe-snapshot', 'wipe-snapshot', [CompletionResultType]::ParameterValue, 'Remove a deleted WipeOut Snapshot''s data from the backend, then release it')
            [CompletionResult]::new('wipe-volume', 'wipe-volume', [CompletionResultType]::ParameterValue, 'Empty a volume directory (WipeOut delete of a Repository or BackupStorage)')
            break
        }
        'kubectl-kubestash;help;executor;backup' {
            break
        }
        'kubectl-kubestash;help;executor;restore' {
            break
        }
        'kubectl-kubestash;help;executor;trigger' {
            break
        }
        'kubectl-kubestash;help;executor;sync-storage' {
            break
        }
        'kubectl-kubestash;help;executor;retention' {
            break
        }
        'kubectl-kubestash;help;executor;check-volume' {
            break
        }
        'kubectl-kubestash;help;executor;list-manifests' {
            break
        }
        'kubectl-kubestash;help;executor;wipe-snapshot' {
            break
        }
        'kubectl-kubestash;help;executor;wipe-volume' {
            break
        }
        'kubectl-kubestash;help;__complete' {
            break
        }
        'kubectl-kubestash;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
