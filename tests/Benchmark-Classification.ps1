#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Benchmarks header-only classification against a full MimeKit parse of the same files (not a timed test).
.DESCRIPTION
    Loops over the messages of the corpus, in one run:
      1. header-only classification, as Get-ReplyClassification does it: read the header block of the file, classify,
         and parse the whole message only when the classifier asks for the body;
      2. a full MimeKit parse of every file (MimeParser.ParseMessage on a FileStream), with no classification;
      3. a full parse followed by classification (what a classifier that always needs the body would cost).
    The modes run interleaved in 5 rounds (a third of -Seconds each in total) after a warm-up, and each reports its median; the loop is compiled C# so PowerShell's per-call
    overhead does not blur the numbers. Prints messages/s for each and the ratio. Absolute numbers drift between
    machines and runs; compare the ratio within one run.
    Imports the module from $env:REPLYADMIN_MODULE when set, else from ../out/ReplyAdmin (run build.ps1 first).
.PARAMETER CorpusPath
    The folder of messages (*.eml, searched recursively); default: ../../shared/corpus relative to this script.
.PARAMETER Seconds
    Total measuring time, split between the three modes; default 6.
.EXAMPLE
    dotnet pwsh -NoProfile -File tests/Benchmark-Classification.ps1
#>
[CmdletBinding()]
param(
    [string] $CorpusPath = (Join-Path $PSScriptRoot '../../shared/corpus'),
    [ValidateRange(1, 600)]
    [double] $Seconds = 6
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$module = if ($env:REPLYADMIN_MODULE) { $env:REPLYADMIN_MODULE } else { Join-Path $PSScriptRoot '../out/ReplyAdmin/ReplyAdmin.psd1' }
Import-Module $module -Force

$files = @(Get-ChildItem -Path $CorpusPath -Recurse -File -Filter *.eml | Sort-Object FullName | ForEach-Object FullName)
if ($files.Count -eq 0) { throw "No .eml files under $CorpusPath." }
# The module's engine and MimeKit files, loaded a second time in the default context (the module's copies are in
# its own load context, which [TypeName] literals and Add-Type do not see).
$dependencies = Join-Path (Split-Path $module) 'dependencies'
$engine = Join-Path $dependencies 'ReplyAdmin.Engine.dll'
$mimeKit = Join-Path $dependencies 'MimeKit.dll'
if (-not ('ReplyAdmin.Engine.Classification.ReplyClassifier' -as [type])) { Add-Type -Path $mimeKit, $engine }
$references = @($engine, $mimeKit) + @([AppDomain]::CurrentDomain.GetAssemblies() |
    Where-Object { -not $_.IsDynamic -and $_.Location -and $_.GetName().Name -in 'netstandard', 'System.Runtime', 'System.Collections', 'System.Linq', 'System.IO.FileSystem', 'System.Runtime.Extensions' } |
    ForEach-Object Location)

if (-not ('ReplyAdminBenchmark.Runner' -as [type])) {
    Add-Type -ReferencedAssemblies $references -IgnoreWarnings -TypeDefinition @'
using System;
using System.Diagnostics;
using System.IO;
using MimeKit;
using ReplyAdmin.Engine.Classification;

namespace ReplyAdminBenchmark
{
    public static class Runner
    {
        // Runs one mode over the files until the time is up; returns messages per second.
        public static double Run(string mode, string[] files, double seconds, out int bodyReads, out long messages)
        {
            var classifier = new ReplyClassifier();
            bodyReads = 0;
            messages = 0;
            var watch = Stopwatch.StartNew();
            while (watch.Elapsed.TotalSeconds < seconds)
            {
                foreach (var file in files)
                {
                    switch (mode)
                    {
                        case "HeaderOnly":
                            HeaderList headers;
                            if (MessageHeaderReader.ClassifyFile(classifier, file, out headers).BodyRead)
                                bodyReads++;
                            break;
                        case "FullParse":
                            using (var stream = File.OpenRead(file))
                                MessageHeaderReader.ReadMessage(stream).Dispose();
                            break;
                        default:
                            using (var stream = File.OpenRead(file))
                            using (var message = MessageHeaderReader.ReadMessage(stream))
                                classifier.Classify(message);
                            break;
                    }
                    messages++;
                }
            }
            return messages / watch.Elapsed.TotalSeconds;
        }
    }
}
'@
}

$bytes = ($files | ForEach-Object { (Get-Item -LiteralPath $_).Length } | Measure-Object -Sum).Sum
Write-Host ("Corpus: {0} messages, {1:N1} MB, in {2}" -f $files.Count, ($bytes / 1MB), (Resolve-Path $CorpusPath))

# Warm up (JIT, file cache), then measure.
$bodyReads = 0; $count = 0L
foreach ($mode in 'HeaderOnly', 'FullParse', 'FullParseAndClassify') { [void][ReplyAdminBenchmark.Runner]::Run($mode, $files, 0.3, [ref]$bodyReads, [ref]$count) }

# Other work on the machine makes single measurements drift: run the modes interleaved in rounds and take each
# mode's median, so the ratio compares like with like.
$rounds = 5
$share = $Seconds / 3 / $rounds
$samples = @{ HeaderOnly = @(); FullParse = @(); FullParseAndClassify = @() }
$details = @{}
foreach ($mode in $samples.Keys) { $details[$mode] = @{ Messages = 0L; BodyReads = 0 } }
for ($round = 0; $round -lt $rounds; $round++) {
    foreach ($mode in 'HeaderOnly', 'FullParse', 'FullParseAndClassify') {
        $samples[$mode] += [ReplyAdminBenchmark.Runner]::Run($mode, $files, $share, [ref]$bodyReads, [ref]$count)
        $details[$mode].Messages += $count
        $details[$mode].BodyReads += $bodyReads
    }
}
$rates = @{}
foreach ($mode in $samples.Keys) { $rates[$mode] = ($samples[$mode] | Sort-Object)[[int][math]::Floor($rounds / 2)] }
Write-Host ("Median of $rounds interleaved rounds of {0:N1} s per mode." -f $share)

Write-Host ''
Write-Host ('{0,-48} {1,12:N0} msgs/s  ({2:N0} messages; body parsed for {3:P0})' -f 'header-only classification (Get-ReplyClassification)',
    $rates.HeaderOnly, $details.HeaderOnly.Messages, ($details.HeaderOnly.BodyReads / [math]::Max(1, $details.HeaderOnly.Messages)))
Write-Host ('{0,-48} {1,12:N0} msgs/s  ({2:N0} messages)' -f 'full MimeKit parse (MimeParser.ParseMessage)', $rates.FullParse, $details.FullParse.Messages)
Write-Host ('{0,-48} {1,12:N0} msgs/s  ({2:N0} messages)' -f 'full parse + classification', $rates.FullParseAndClassify, $details.FullParseAndClassify.Messages)
Write-Host ''
Write-Host ('ratio header-only classification / full parse:                {0:N1}x' -f ($rates.HeaderOnly / $rates.FullParse))
Write-Host ('ratio header-only classification / full parse + classification: {0:N1}x' -f ($rates.HeaderOnly / $rates.FullParseAndClassify))

[pscustomobject]@{
    Messages                      = $files.Count
    HeaderOnlyPerSecond           = [math]::Round($rates.HeaderOnly)
    FullParsePerSecond            = [math]::Round($rates.FullParse)
    FullParseAndClassifyPerSecond = [math]::Round($rates.FullParseAndClassify)
    Ratio                         = [math]::Round($rates.HeaderOnly / $rates.FullParse, 2)
}
