#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Measures Get-ReplyClassification against the labelled corpus.
.DESCRIPTION
    Classifies every message listed in labels.tsv (columns: file, class, source, note; class is human, auto-reply or
    bounce) and prints the confusion matrix, the accuracy per source folder, the targets of issue 4 (no human
    classified as auto-generated, >= 98% of auto-replies and >= 99% of bounces recognised) and every misclassified
    file with the rule and evidence that decided it.
    Imports the module from $env:REPLYADMIN_MODULE when set, else from ../out/ReplyAdmin (run build.ps1 first).
.PARAMETER CorpusPath
    The corpus folder holding labels.tsv; default: ../../shared/corpus relative to this script.
.PARAMETER PassThru
    Also output the per-message results.
.EXAMPLE
    dotnet pwsh -NoProfile -File tests/Measure-Classification.ps1
#>
[CmdletBinding()]
param(
    [string] $CorpusPath = (Join-Path $PSScriptRoot '../../shared/corpus'),
    [switch] $PassThru
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$module = if ($env:REPLYADMIN_MODULE) { $env:REPLYADMIN_MODULE } else { Join-Path $PSScriptRoot '../out/ReplyAdmin/ReplyAdmin.psd1' }
Import-Module $module -Force

$labels = Import-Csv -Path (Join-Path $CorpusPath 'labels.tsv') -Delimiter "`t"
$classes = 'human', 'auto-reply', 'bounce'

function ConvertTo-Label([string] $Class) {
    switch ($Class) {
        'AutoReply' { 'auto-reply' }
        'Bounce' { 'bounce' }
        default { 'human' } # Human and Loop are both kept by the Exclude setting
    }
}

$rows = foreach ($label in $labels) {
    $file = Join-Path $CorpusPath $label.file
    $result = Get-ReplyClassification -LiteralPath $file
    [pscustomobject]@{
        File       = $label.file
        Source     = ($label.file -split '/')[0]
        Expected   = $label.class
        Actual     = ConvertTo-Label $result.Class
        Class      = $result.Class
        Kind       = $result.Kind
        Rule       = $result.Rule
        Confidence = $result.Confidence
        BodyRead   = $result.BodyRead
        Evidence   = $result.Evidence
        Note       = $label.note
    }
}

Write-Host "`nConfusion matrix ($($rows.Count) messages; rows: label, columns: classified as)`n"
$header = '{0,-12}' -f 'label' ; foreach ($c in $classes) { $header += '{0,12}' -f $c }
Write-Host $header
foreach ($expected in $classes) {
    $line = '{0,-12}' -f $expected
    foreach ($actual in $classes) {
        $line += '{0,12}' -f @($rows | Where-Object { $_.Expected -eq $expected -and $_.Actual -eq $actual }).Count
    }
    Write-Host $line
}

Write-Host "`nAccuracy per source`n"
$rows | Group-Object Source | Sort-Object Name | ForEach-Object {
    $ok = @($_.Group | Where-Object { $_.Expected -eq $_.Actual }).Count
    '{0,-22} {1,4}/{2,-4} {3,7:P1}' -f $_.Name, $ok, $_.Count, ($ok / $_.Count)
} | Write-Host

Write-Host "`nTargets`n"
function Get-Rate([string] $Label, [scriptblock] $Ok) {
    $group = @($rows | Where-Object Expected -EQ $Label)
    if ($group.Count -eq 0) { return 1.0 }
    @($group | Where-Object $Ok).Count / $group.Count
}
$humanAsAuto = @($rows | Where-Object { $_.Expected -eq 'human' -and $_.Actual -ne 'human' }).Count
$autoRecall = Get-Rate 'auto-reply' { $_.Actual -ne 'human' }
$bounceRecall = Get-Rate 'bounce' { $_.Actual -ne 'human' }
Write-Host ('human classified as auto-generated: {0} (target 0)            {1}' -f $humanAsAuto, $(if ($humanAsAuto -eq 0) { 'met' } else { 'MISSED' }))
Write-Host ('auto-replies recognised as auto-generated: {0:P1} (target 98%) {1}' -f $autoRecall, $(if ($autoRecall -ge 0.98) { 'met' } else { 'MISSED' }))
Write-Host ('bounces recognised as auto-generated: {0:P1} (target 99%)      {1}' -f $bounceRecall, $(if ($bounceRecall -ge 0.99) { 'met' } else { 'MISSED' }))
Write-Host ('exact class (bounce vs auto-reply vs human): {0:P1}; body read for {1} of {2}' -f (@($rows | Where-Object { $_.Expected -eq $_.Actual }).Count / $rows.Count), @($rows | Where-Object BodyRead).Count, $rows.Count)

$wrong = @($rows | Where-Object { $_.Expected -ne $_.Actual })
Write-Host "`nMisclassified: $($wrong.Count)`n"
foreach ($row in $wrong) {
    Write-Host ("{0}: labelled {1}, classified {2} by {3} ({4:0.00})" -f $row.File, $row.Expected, $row.Class, $row.Rule, $row.Confidence)
    Write-Host "    note: $($row.Note)"
    foreach ($e in $row.Evidence) { Write-Host "    - $e" }
}

if ($PassThru) { $rows }
