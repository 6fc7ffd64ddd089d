# Helpers of the crash, fault, mutation and security tests: generated replies, scenarios against the test mail
# server, a child pwsh that runs Invoke-ReplyProcessing (and can be killed), and read-back checks.
# Dot-source after Common.ps1, MailServer.ps1, the module and ImapReader.ps1; expects $server in the caller's scope.
Set-StrictMode -Version Latest

# A human reply with a sequence header (X-Test-Seq) so each input can be found again without relying on its
# Message-ID. -NoMessageId leaves the Message-ID out; -MessageId sets it; -BodyBytes pads the body (CRLF lines).
function New-ResilienceReply {
    param([Parameter(Mandatory)] [string] $Token, [Parameter(Mandatory)] [int] $Seq, [string] $To = 'news@example.test',
        [switch] $NoMessageId, [string] $MessageId, [int] $BodyBytes = 600, [string] $Subject)
    if (-not $Subject) { $Subject = "Re: Angebot $Token #$Seq" }
    $id = if ($MessageId) { $MessageId } else { "reply-$Seq.$Token@customer.test" }
    $sb = [Text.StringBuilder]::new()
    [void] $sb.Append("Return-Path: <kunde$Seq@customer.test>`r`n")
    [void] $sb.Append("Delivered-To: $To`r`n")
    [void] $sb.Append("From: Kunde $Seq <kunde$Seq@customer.test>`r`n")
    [void] $sb.Append("To: $To`r`n")
    [void] $sb.Append("Subject: $Subject`r`n")
    [void] $sb.Append("Date: Tue, 24 Nov 2026 09:$('{0:00}' -f ($Seq % 60)):44 +0100`r`n")
    if (-not $NoMessageId) { [void] $sb.Append("Message-ID: <$id>`r`n") }
    [void] $sb.Append("X-Test-Seq: $Token-$Seq`r`n")
    [void] $sb.Append("MIME-Version: 1.0`r`nContent-Type: text/plain; charset=utf-8`r`nContent-Transfer-Encoding: 8bit`r`n`r`n")
    [void] $sb.Append("Guten Tag,`r`nNachricht $Seq zu $Token. Grüße`r`n")
    $line = ('abcdefghij' * 7) + "-$('{0:00000}' -f ($Seq % 100000))`r`n"
    while ($sb.Length -lt $BodyBytes) { [void] $sb.Append($line) }
    [Text.Encoding]::UTF8.GetBytes($sb.ToString())
}

# The X-Test-Seq of a message's bytes (first occurrence; forwards carry Resent-* fields on top).
function Get-ResilienceSeq([byte[]] $Bytes) {
    $head = [Text.Encoding]::UTF8.GetString($Bytes, 0, [Math]::Min($Bytes.Length, 8192))
    if ($head -match '(?m)^X-Test-Seq: (\S+)') { $Matches[1] } else { $null }
}

$script:ResilienceScenarioDirs = [Collections.Generic.List[string]]::new()

# A configuration with a fresh reply folder on the test server and a directory source.
function New-ResilienceScenario {
    param([hashtable[]] $Lists = @(@{ Name = 'news'; Address = 'news@example.test' }), [string] $ReplyUser = 'replies@example.test')
    $token = [guid]::NewGuid().ToString('N').Substring(0, 10)
    $folder = "Replies-$token"
    $config = New-TestReplyConfiguration -Server $server -ReplyFolder $folder -ReplyUser $ReplyUser
    $client = Connect-TestImap -Server $server -User $ReplyUser
    try { $null = Get-TestImapFolder -Client $client -Folder $folder -Create } finally { $client.Disconnect($true); $client.Dispose() }
    foreach ($list in $Lists) { Add-ReplyList -ConfigPath $config @list }
    $inbound = Join-Path (Split-Path $config) 'inbound'
    $null = New-Item -ItemType Directory -Path $inbound
    Set-ReplySource -ConfigPath $config -Kind Directory -Path $inbound
    $script:ResilienceScenarioDirs.Add((Split-Path $config))
    [pscustomobject]@{ Token = $token; Folder = $folder; Config = $config; Inbound = $inbound; ReplyUser = $ReplyUser; InboundFolder = $null }
}

# Removes the temp directories of the scenarios this file created (call in AfterAll).
function Remove-ResilienceScenario {
    foreach ($dir in $script:ResilienceScenarioDirs) { Remove-Item -LiteralPath $dir -Recurse -Force -ErrorAction SilentlyContinue }
    $script:ResilienceScenarioDirs.Clear()
}

# Switches a scenario to an IMAP source: folder In-<token> of inbound@example.test.
function Set-ResilienceImapSource {
    param([Parameter(Mandatory)] $Scenario)
    $Scenario.InboundFolder = "In-$($Scenario.Token)"
    Set-ReplySource -ConfigPath $Scenario.Config -Kind Imap -Server $server.ImapHost -Port $server.ImapPort -UserName 'inbound@example.test' `
        -Folder $Scenario.InboundFolder -CredentialReference 'env:REPLYADMIN_TEST_INBOUND_PW' -CertificateThumbprint $server.CertificateThumbprint `
        -ProcessedFolder "$($Scenario.InboundFolder)/Processed" -RejectedFolder "$($Scenario.InboundFolder)/Rejected"
    $client = Connect-TestImap -Server $server -User 'inbound@example.test'
    try { $null = Get-TestImapFolder -Client $client -Folder $Scenario.InboundFolder -Create } finally { $client.Disconnect($true); $client.Dispose() }
}

# Appends raw byte arrays to an IMAP folder unchanged (no parse: MimeKit would normalize hostile input).
function Add-ResilienceImapBytes {
    param([Parameter(Mandatory)] [string] $User, [Parameter(Mandatory)] [string] $Folder, [Parameter(Mandatory)] [object[]] $Messages,
        [string[]] $Keywords = @())
    $client = Connect-TestImap -Server $server -User $User
    try {
        $target = Get-TestImapFolder -Client $client -Folder $Folder -Create
        foreach ($bytes in $Messages) {
            $stream = [IO.MemoryStream]::new([byte[]] $bytes)
            $message = (Get-ReplyAdminType MimeKit.MimeMessage)::Load((Get-ReplyAdminType MimeKit.ParserOptions)::Default, $stream, $true)
            $set = [Collections.Generic.HashSet[string]]::new([string[]] $Keywords)
            $request = (Get-ReplyAdminType MailKit.AppendRequest)::new($message, (Get-ReplyAdminType MailKit.MessageFlags)::None, $set)
            [void] $target.Append($request)
            $message.Dispose(); $stream.Dispose()
        }
    }
    finally { $client.Disconnect($true); $client.Dispose() }
}

# Messages of a folder; -Quiet ignores a missing folder.
function Get-ResilienceStored {
    param([Parameter(Mandatory)] $Scenario, [string] $Folder = $Scenario.Folder, [string] $User = $Scenario.ReplyUser)
    @(Get-TestImapMessage -Server $server -User $User -Folder $Folder)
}

# Forwards with this scenario's token in forward@example.test, waiting (up to $TimeoutSeconds) until $Expected distinct ones arrived.
function Get-ResilienceForwarded {
    param([Parameter(Mandatory)] $Scenario, [int] $Expected, [int] $TimeoutSeconds = 30, [string] $User = 'forward@example.test')
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    do {
        $found = @(Get-TestImapMessage -Server $server -User $User | Where-Object { (Get-ResilienceSeq $_.Bytes) -like "$($Scenario.Token)-*" })
        $distinct = @($found | ForEach-Object { Get-ResilienceSeq $_.Bytes } | Sort-Object -Unique)
        if ($distinct.Count -ge $Expected) { break }
        Start-Sleep -Milliseconds 300
    } while ([DateTime]::UtcNow -lt $deadline)
    $found
}

function Test-ResilienceBytesEqual([byte[]] $A, [byte[]] $B) { $A.Length -eq $B.Length -and [Linq.Enumerable]::SequenceEqual($A, $B) }

# Starts Invoke-ReplyProcessing in a child pwsh (same environment: credential references are env: ones).
# Returns the Process; its stdout/stderr go to files next to the configuration.
function Start-ResilienceChild {
    param([Parameter(Mandatory)] [string] $ConfigPath, [int] $TimeoutSeconds = 20, [string] $ResultPath)
    $command = Get-PwshCommand
    $script = Join-Path $PSScriptRoot 'ResilienceChild.ps1'
    $info = [Diagnostics.ProcessStartInfo]::new($command[0])
    foreach ($a in @($command | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-File', $script, '-ModulePath', (Resolve-Path $ModulePath).ProviderPath, '-ConfigPath', $ConfigPath, '-TimeoutSeconds', $TimeoutSeconds) + @(if ($ResultPath) { '-ResultPath', $ResultPath })) {
        $info.ArgumentList.Add([string] $a)
    }
    $info.UseShellExecute = $false
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $process = [Diagnostics.Process]::Start($info)
    # Drain the pipes asynchronously so the child never blocks on a full pipe.
    $null = $process.StandardOutput.ReadToEndAsync()
    $null = $process.StandardError.ReadToEndAsync()
    $process
}

# Lines in the scenario's journal (one per handled message, across runs).
function Get-ResilienceJournalCount {
    param([Parameter(Mandatory)] [string] $ConfigPath)
    $dir = Join-Path (Split-Path $ConfigPath) 'journal'
    if (-not (Test-Path $dir)) { return 0 }
    $n = 0
    foreach ($file in [IO.Directory]::GetFiles($dir, '*.jsonl')) {
        try {
            $stream = [IO.FileStream]::new($file, 'Open', 'Read', 'ReadWrite, Delete')
            try {
                $buffer = [byte[]]::new(65536)
                while (($read = $stream.Read($buffer, 0, $buffer.Length)) -gt 0) { for ($i = 0; $i -lt $read; $i++) { if ($buffer[$i] -eq 10) { $n++ } } }
            } finally { $stream.Dispose() }
        } catch [IO.IOException] { }
    }
    $n
}

# Every journal entry of the scenario (lines cut short by a kill are skipped).
function Get-ResilienceJournal {
    param([Parameter(Mandatory)] [string] $ConfigPath)
    $dir = Join-Path (Split-Path $ConfigPath) 'journal'
    if (-not (Test-Path $dir)) { return }
    $all = @(foreach ($file in Get-ChildItem $dir -Filter '*.jsonl' | Sort-Object Name) {
        foreach ($line in [IO.File]::ReadAllLines($file.FullName)) {
            try { $line | ConvertFrom-Json } catch { }
        }
    })
    # As Get-ReplyJournal reads it: a pending line (written just before the move) counts only when no later line of
    # the same message follows, i.e. when the run died between the move and its final line.
    $key = { param($e) "$(if ($e.PSObject.Properties['sourceId']) { $e.sourceId })`n$(if ($e.PSObject.Properties['messageId']) { $e.messageId })" }
    $last = @{}
    for ($i = 0; $i -lt $all.Count; $i++) { $last[(& $key $all[$i])] = $i }
    for ($i = 0; $i -lt $all.Count; $i++) {
        if (-not $all[$i].PSObject.Properties['pending'] -or $last[(& $key $all[$i])] -eq $i) { $all[$i] }
    }
}

# The working set of a process, sampled until it exits; returns the peak in bytes.
function Wait-ResilienceChild {
    param([Parameter(Mandatory)] [Diagnostics.Process] $Process, [int] $TimeoutSeconds = 120)
    $peak = 0L
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    while (-not $Process.HasExited) {
        try { $Process.Refresh(); if ($Process.WorkingSet64 -gt $peak) { $peak = $Process.WorkingSet64 } } catch { }
        if ([DateTime]::UtcNow -gt $deadline) { $Process.Kill(); throw "The child run did not end within $TimeoutSeconds s." }
        Start-Sleep -Milliseconds 20
    }
    $Process.WaitForExit()
    $peak
}
