<#
.SYNOPSIS
    ReplyAdmin end to end on this machine: a private Dovecot and Postfix on loopback, two lists in different
    modes, a handful of real-looking replies, processing, and what staff then see in the shared folder.
.NOTES
    Run through build.ps1:  dotnet tool restore; dotnet pwsh ./build.ps1 -Task Demo
    Needs root (or sudo) to start the mail servers. Everything is removed at the end unless -KeepRunning.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [switch] $KeepRunning
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

. "$PSScriptRoot/Common.ps1"
. "$PSScriptRoot/MailServer.ps1"
Import-Module $ModulePath -Force
. "$PSScriptRoot/ImapReader.ps1"

function Show-Step([string] $Text) { Write-Host "`n== $Text" -ForegroundColor Cyan }

Show-Step 'Starting Dovecot (IMAP, implicit TLS) and Postfix (SMTP relay) on loopback'
$server = Start-TestMailServer -Users 'replies@example.test', 'inbound@example.test', 'forward@example.test', 'staff@example.test'
try {
    Write-Host "IMAPS 127.0.0.1:$($server.ImapPort)  SMTP 127.0.0.1:$($server.SmtpPort)  self-signed certificate $($server.CertificateThumbprint)"

    Show-Step 'Configuring ReplyAdmin (passwords stay in environment variables; the file holds only references)'
    $config = New-TestReplyConfiguration -Server $server -ReplyFolder 'INBOX'
    $env:REPLYADMIN_CONFIG = $config
    Set-ReplySource -Kind Imap -Server $server.ImapHost -Port $server.ImapPort -UserName 'inbound@example.test' -Folder 'INBOX' `
        -CredentialReference 'env:REPLYADMIN_TEST_INBOUND_PW' -CertificateThumbprint $server.CertificateThumbprint
    Add-ReplyList -Name 'newsletter' -Address 'news@example.test' -AutoReplies Exclude -Description 'Monthly newsletter: only real replies'
    Add-ReplyList -Name 'sales' -Address 'sales@example.test' -Action ForwardAndStoreInImap -ForwardTo 'forward@example.test' -AutoReplies Include
    Get-ReplyListHandling | Format-Table -AutoSize | Out-Host
    Write-Host "Configuration file: $config"
    Get-Content $config | Out-Host

    Show-Step 'Test-ReplyImapConnection (the shared reply folder)'
    Test-ReplyImapConnection | Out-Host

    Show-Step 'Replies arrive in the inbound mailbox'
    $samples = Join-Path (Split-Path $config) 'samples'
    New-Item -ItemType Directory -Path $samples | Out-Null
    $fixtures = Join-Path $PSScriptRoot '../fixtures/replies'
    foreach ($name in 'human', 'out-of-office', 'bounce') { Copy-Item (Join-Path $fixtures "$name.eml") $samples }
    # The same three kinds of reply for the sales list.
    foreach ($name in 'human', 'out-of-office', 'bounce') {
        $text = [IO.File]::ReadAllText((Join-Path $fixtures "$name.eml")).Replace('news@example.test', 'sales@example.test').Replace('@customer.test>', '.sales@customer.test>')
        [IO.File]::WriteAllText((Join-Path $samples "sales-$name.eml"), $text)
    }
    Add-TestImapMessage -Server $server -User 'inbound@example.test' -Path (Get-ChildItem $samples -Filter *.eml).FullName
    Write-Host "$((Get-ChildItem $samples).Count) messages waiting."

    Show-Step 'Invoke-ReplyProcessing -WhatIf (decides, changes nothing)'
    Invoke-ReplyProcessing -WhatIf | Format-Table -AutoSize | Out-Host

    Show-Step 'Invoke-ReplyProcessing'
    Invoke-ReplyProcessing | Format-Table -AutoSize | Out-Host

    Show-Step 'What staff see in the shared reply folder (read back over IMAP, as a mail client does)'
    Get-TestImapMessage -Server $server -User 'replies@example.test' -Folder 'INBOX' |
        Select-Object Uid, @{ n = 'Unread'; e = { $_.Flags.ToString() -notmatch '\bSeen\b' } }, Subject, @{ n = 'Keywords'; e = { $_.Keywords -join ' ' } } |
        Format-Table -AutoSize | Out-Host

    Show-Step 'What the sales team received by forward'
    Start-Sleep -Seconds 1
    Get-TestImapMessage -Server $server -User 'forward@example.test' | Select-Object Uid, Subject, MessageId | Format-Table -AutoSize | Out-Host

    Show-Step 'The inbound mailbox afterwards'
    foreach ($folder in 'INBOX', 'ReplyAdmin/Processed') {
        Write-Host ("{0,-22} {1} messages" -f $folder, @(Get-TestImapMessage -Server $server -User 'inbound@example.test' -Folder $folder).Count)
    }

    Show-Step 'A scheduled run, as the timer starts it (Register-ReplyProcessingSchedule writes this command)'
    $late = Join-Path $samples 'late-human.eml'
    [IO.File]::WriteAllText($late, [IO.File]::ReadAllText((Join-Path $fixtures 'human.eml')).Replace('@customer.test>', '.late@customer.test>'))
    Add-TestImapMessage -Server $server -User 'inbound@example.test' -Path $late
    $schedule = Register-ReplyProcessingSchedule -Platform Cron
    Write-Host "One more reply arrived. Each scheduled run ($($schedule.RunWith)): $($schedule.CommandLine)"
    $clock = [Diagnostics.Stopwatch]::StartNew()
    & $schedule.Command[0] @($schedule.Command | Select-Object -Skip 1) | Out-Host
    Write-Host ('Exit code {0} after {1:N2} s, the process start included.' -f $LASTEXITCODE, $clock.Elapsed.TotalSeconds)

    Show-Step 'The journal: what happened to the reply from Bernd?'
    Get-ReplyJournal -From '*bernd*' | Select-Object Time, Subject, Class, Rule, Disposition, Outcome | Format-List | Out-Host

    if ($KeepRunning) {
        Write-Host "`nServers keep running (-KeepRunning). Stop them with: Stop-TestMailServer -Server (Get-Content '$($server.Root)/server.json' | ConvertFrom-Json)"
        $server | ConvertTo-Json -Depth 3 | Set-Content (Join-Path $server.Root 'server.json')
    }
}
finally {
    Remove-Item Env:REPLYADMIN_CONFIG -ErrorAction Ignore
    if (-not $KeepRunning) {
        Show-Step 'Stopping the mail servers'
        Stop-TestMailServer -Server $server
    }
}
