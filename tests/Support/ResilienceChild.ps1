# Runs one Invoke-ReplyProcessing in its own process, for tests that kill it (crash test) or measure its memory.
# Writes the results (JSON) to -ResultPath when given; exit code 0 when the run ended, 1 on a terminating error.
param([Parameter(Mandatory)] [string] $ModulePath, [Parameter(Mandatory)] [string] $ConfigPath, [int] $TimeoutSeconds = 20, [string] $ResultPath)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
try {
    $results = @(Invoke-ReplyProcessing -ConfigPath $ConfigPath -TimeoutSeconds $TimeoutSeconds -ErrorAction SilentlyContinue)
    if ($ResultPath) {
        $results | Select-Object SourceId, MessageId, Outcome, Disposition, ErrorId, Reason, Actions, Size |
            ConvertTo-Json -Depth 4 -Compress -EnumsAsStrings | Set-Content -LiteralPath $ResultPath -Encoding utf8
    }
    exit 0
}
catch {
    [Console]::Error.WriteLine("$($_.FullyQualifiedErrorId): $_")
    if ($ResultPath) { "$($_.FullyQualifiedErrorId)`n$_" | Set-Content -LiteralPath "$ResultPath.error" -Encoding utf8 }
    exit 1
}
