#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Measures the cost of one scan per message and scanner (clamd over TCP and a Unix socket, rspamd with and without
    its antivirus module asking clamd), for ~5 KB and ~1 MB replies, against the test harness's real scanners.
.EXAMPLE
    dotnet pwsh tests/Benchmark/Measure-Scanning.ps1 -ModulePath out/ReplyAdmin/ReplyAdmin.psd1
#>
param([string] $ModulePath = (Join-Path $PSScriptRoot '../../out/ReplyAdmin/ReplyAdmin.psd1'), [int] $Small = 300, [int] $Large = 30)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath -Force
. "$PSScriptRoot/../Support/MailServer.ps1"
. "$PSScriptRoot/../Support/Scanners.ps1"
. "$PSScriptRoot/../Support/Common.ps1"
# Engine types live in ReplyAdmin's own load context, where PowerShell's [type] literals do not look.
$ClamdScanner = Get-ReplyAdminType 'ReplyAdmin.Engine.Scanning.ClamdScanner'
$RspamdScanner = Get-ReplyAdminType 'ReplyAdmin.Engine.Scanning.RspamdScanner'
$ScanEnvelope = Get-ReplyAdminType 'ReplyAdmin.Engine.Scanning.ScanEnvelope'
$MessageHeaderReader = Get-ReplyAdminType 'ReplyAdmin.Engine.Classification.MessageHeaderReader'

function New-Reply([int] $Size) {
    $head = "Return-Path: <erika@example.org>`r`nReceived: from mail.example.org (mail.example.org [192.0.2.10]) by mx.example.net (Postfix) with ESMTPS id 4AB; Mon, 1 Jan 2024 10:00:00 +0000`r`nFrom: erika@example.org`r`nTo: news@example.net`r`nSubject: Re: offer`r`nMessage-ID: <$([guid]::NewGuid())@example.org>`r`nMIME-Version: 1.0`r`nContent-Type: text/plain; charset=us-ascii`r`n`r`n"
    $line = "Thank you for the offer, we would like to know more about the conditions for next year.`r`n"
    $body = [Text.StringBuilder]::new()
    while ($head.Length + $body.Length -lt $Size) { [void] $body.Append($line) }
    [Text.Encoding]::ASCII.GetBytes($head + $body)
}

$scanners = Start-TestScanners
try {
    $timeout = [TimeSpan]::FromSeconds(30)
    $targets = [ordered]@{
        'clamd (TCP)'            = $ClamdScanner::new($scanners.ClamdAddress, $timeout)
        'clamd (Unix socket)'    = $ClamdScanner::new($scanners.ClamdUnixAddress, $timeout)
        'rspamd (+antivirus)'    = $RspamdScanner::new([uri] "$($scanners.RspamdUrl)/", $timeout)
    }
    $messages = [ordered]@{ '5 KB' = @{ Bytes = (New-Reply 5KB); Count = $Small }; '1 MB' = @{ Bytes = (New-Reply 1MB); Count = $Large } }
    $rows = foreach ($name in $targets.Keys) {
        foreach ($size in $messages.Keys) {
            $m = $messages[$size]
            $headers = $MessageHeaderReader::ReadHeaders([IO.MemoryStream]::new($m.Bytes))
            $envelope = $ScanEnvelope::FromHeaders($headers, [string[]] @('news@example.net'), $null, $null)
            $times = [Collections.Generic.List[double]]::new()
            $kind = $null
            for ($i = -3; $i -lt $m.Count; $i++) {
                $stream = [IO.MemoryStream]::new($m.Bytes)
                $watch = [Diagnostics.Stopwatch]::StartNew()
                $verdict = $targets[$name].ScanAsync($stream, $envelope, [Threading.CancellationToken]::None).GetAwaiter().GetResult()
                $watch.Stop()
                if ($i -ge 0) { $times.Add($watch.Elapsed.TotalMilliseconds) }  # the first three warm up
                $kind = $verdict.Kind
            }
            $sorted = $times | Sort-Object
            [pscustomobject]@{
                Scanner = $name; Message = $size; Scans = $m.Count; Verdict = $kind
                MedianMs = [math]::Round($sorted[[int]($sorted.Count / 2)], 2)
                P95Ms = [math]::Round($sorted[[int]([math]::Floor($sorted.Count * 0.95))], 2)
                PerSecond = [math]::Round(1000 / ($times | Measure-Object -Average).Average, 1)
            }
        }
    }
    $rows | Format-Table -AutoSize | Out-String -Width 200
} finally {
    Stop-TestScanners -Scanners $scanners
}
