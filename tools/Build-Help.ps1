#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Turns the markdown help in docs/help into the MAML and about-topic files PowerShell's Get-Help reads.
.DESCRIPTION
    Reads one platyPS-style markdown file per cmdlet (docs/help/<Cmdlet-Name>.md) and about_*.md topics, and
    writes into OutputPath (the module's culture folder, e.g. out/ReplyAdmin/en-US):
      <RootModule>-Help.xml   MAML for every cmdlet (ReplyAdmin.dll-Help.xml for a binary module)
      about_*.help.txt        plain-text about topics
    Syntax blocks and parameter attributes (required, position, pipeline input, wildcards, aliases, types,
    enum values) are not written by hand: they come from the built cmdlets themselves, read in a separate
    PowerShell process so the build process never loads the module's assemblies. The markdown supplies the
    words: synopsis, description, examples, parameter descriptions, inputs, outputs, notes and links.

    Markdown layout of a cmdlet file (## SYNTAX may be present; it is ignored, syntax is generated):
      # Verb-Noun
      ## SYNOPSIS / ## DESCRIPTION / ## EXAMPLES (### Example 1: Title, ```powershell code```, remarks)
      ## PARAMETERS (### -Name, description, optional ```yaml block with "Default value: x")
      ## INPUTS / ## OUTPUTS (### Type.Name, description) / ## NOTES / ## RELATED LINKS ([text](uri) lines)
    Problems that make help incomplete (a parameter without description, a file for a command that does not
    exist, a documented parameter that does not exist) are reported as warnings; tests/Help.Tests.ps1 is the gate.
.PARAMETER DocsPath
    Folder of the markdown files.
.PARAMETER OutputPath
    Folder to write into: the module's culture folder, e.g. <module>/en-US. Created when missing.
.PARAMETER ModulePath
    The built module's manifest (.psd1); its cmdlets are read for syntax and parameter metadata.
.EXAMPLE
    ./tools/Build-Help.ps1 -DocsPath docs/help -OutputPath out/ReplyAdmin/en-US -ModulePath out/ReplyAdmin/ReplyAdmin.psd1
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $DocsPath,
    [Parameter(Mandatory)] [string] $OutputPath,
    [Parameter(Mandatory)] [string] $ModulePath
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$DocsPath = (Resolve-Path -LiteralPath $DocsPath).ProviderPath
$ModulePath = (Resolve-Path -LiteralPath $ModulePath).ProviderPath
$OutputPath = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($OutputPath)

$commonParameters = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters
$riskParameters = @{
    WhatIf  = 'Shows what would happen if the cmdlet runs. The cmdlet is not run.'
    Confirm = 'Prompts you for confirmation before running the cmdlet.'
}

#region Metadata of the built cmdlets (read in a child process)

function Get-PwshCommand {
    $process = [Environment]::ProcessPath
    if ([IO.Path]::GetFileNameWithoutExtension($process) -eq 'dotnet') { @($process, (Join-Path $PSHOME 'pwsh.dll')) } else { @($process) }
}

$metadataScript = {
    param([string] $ModulePath)
    $ErrorActionPreference = 'Stop'
    $module = Import-Module $ModulePath -PassThru
    $common = [System.Management.Automation.Cmdlet]::CommonParameters
    function Get-TypeName([type] $Type) {
        if ($Type.IsArray) { return (Get-TypeName $Type.GetElementType()) + '[]' }
        $Type.Name
    }
    $commands = foreach ($command in (Get-Command -Module $module.Name -CommandType Cmdlet, Function | Sort-Object Name)) {
        $instance = $null
        if ($command.CommandType -eq 'Cmdlet') {
            try { $instance = [Activator]::CreateInstance($command.ImplementingType) } catch { $instance = $null }
        }
        $parameters = [ordered]@{}
        foreach ($p in $command.Parameters.Values) {
            if ($p.Name -in $common) { continue }
            $default = $null
            if ($instance -and $p.ParameterType -ne [System.Management.Automation.SwitchParameter] -and -not $p.ParameterType.IsEnum) {
                $property = $command.ImplementingType.GetProperty($p.Name)
                if ($property) {
                    $value = $property.GetValue($instance)
                    if ($null -ne $value -and -not ($value -is [ValueType] -and $value -eq [Activator]::CreateInstance($value.GetType()))) { $default = "$value" }
                }
            }
            $type = $p.ParameterType
            $parameters[$p.Name] = [ordered]@{
                Name          = $p.Name
                TypeName      = Get-TypeName $type
                TypeFullName  = $type.FullName
                IsSwitch      = $type -eq [System.Management.Automation.SwitchParameter]
                IsArray       = $type.IsArray
                EnumValues    = @(if ($type.IsEnum) { [Enum]::GetNames($type) } elseif ($type.IsArray -and $type.GetElementType().IsEnum) { [Enum]::GetNames($type.GetElementType()) })
                Aliases       = @($p.Aliases)
                Globbing      = [bool]($p.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
                DefaultValue  = $default
            }
        }
        $sets = foreach ($set in $command.ParameterSets) {
            $ordered = @($set.Parameters | Where-Object { $_.Name -notin $common })
            $positional = @($ordered | Where-Object Position -ge 0 | Sort-Object Position)
            $named = @($ordered | Where-Object Position -lt 0)
            [ordered]@{
                Name       = $set.Name
                IsDefault  = $set.IsDefault
                Parameters = @(foreach ($p in $positional + $named) {
                        [ordered]@{
                            Name                            = $p.Name
                            IsMandatory                     = $p.IsMandatory
                            Position                        = $p.Position
                            ValueFromPipeline               = $p.ValueFromPipeline
                            ValueFromPipelineByPropertyName = $p.ValueFromPipelineByPropertyName
                        }
                    })
            }
        }
        [ordered]@{
            Name          = $command.Name
            Verb          = $command.Verb
            Noun          = $command.Noun
            Parameters    = @($parameters.Values)
            ParameterSets = @($sets | Sort-Object { -not $_.IsDefault })
        }
    }
    [ordered]@{ RootModule = [IO.Path]::GetFileName($module.Path); Commands = @($commands) } | ConvertTo-Json -Depth 8 -Compress
}

function Get-ModuleMetadata([string] $ModulePath) {
    $pwsh = @(Get-PwshCommand)
    $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes(
            "& { $metadataScript } -ModulePath '$($ModulePath -replace "'", "''")'"))
    $arguments = @($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-EncodedCommand', $encoded)
    $json = & $pwsh[0] @arguments
    if ($LASTEXITCODE -ne 0) { throw "Reading the cmdlets of '$ModulePath' failed (exit code $LASTEXITCODE)." }
    ($json -join "`n") | ConvertFrom-Json
}

#endregion

#region Markdown

# Markdown inline markup to plain text: `code`, **bold**, *em*, [text](uri).
function ConvertFrom-Inline([string] $Text) {
    $Text = [regex]::Replace($Text, '\[([^\]]+)\]\(([^)]*)\)', { param($m) if ($m.Groups[2].Value) { "$($m.Groups[1].Value) ($($m.Groups[2].Value))" } else { $m.Groups[1].Value } })
    $Text = $Text -replace '\*\*([^*]+)\*\*', '$1' -replace '(?<![\w*])\*([^*\s][^*]*)\*(?![\w*])', '$1'
    $Text -replace '`([^`]+)`', '$1'
}

# Lines of text to paragraphs: blank lines separate; each list item (-, *, 1.) is its own paragraph;
# a fenced code block is one paragraph with its line breaks kept; a table keeps its lines.
function ConvertTo-Paragraph([string[]] $Lines) {
    $paragraphs = [Collections.Generic.List[string]]::new()
    $current = [Collections.Generic.List[string]]::new()
    $flush = { if ($current.Count) { $paragraphs.Add((ConvertFrom-Inline ($current -join ' '))); $current.Clear() } }
    $inCode = $false
    $code = [Collections.Generic.List[string]]::new()
    foreach ($line in $Lines) {
        if ($line -match '^\s*```') {
            if ($inCode) { $paragraphs.Add(($code -join "`n")); $code.Clear(); $inCode = $false }
            else { & $flush; $inCode = $true }
            continue
        }
        if ($inCode) { $code.Add($line); continue }
        if ($line -match '^\s*$') { & $flush; continue }
        if ($line -match '^\s*\|') { & $flush; if ($line -notmatch '^\s*\|[\s:|-]+\|\s*$') { $paragraphs.Add((ConvertFrom-Inline $line.Trim())) }; continue }
        if ($line -match '^\s*([-*]|\d+\.)\s+(.*)$') { & $flush; $current.Add($line.Trim()); continue }
        $current.Add($line.Trim())
    }
    if ($inCode -and $code.Count) { $paragraphs.Add(($code -join "`n")) }
    & $flush
    , $paragraphs.ToArray()
}

# Splits lines at headings of one level (outside code fences): ordered title -> lines.
function Split-Section([string[]] $Lines, [int] $Level) {
    $sections = [ordered]@{}
    $title = $null
    $inCode = $false
    $marker = ('#' * $Level) + ' '
    foreach ($line in $Lines) {
        if ($line -match '^\s*```') { $inCode = -not $inCode }
        if (-not $inCode -and $line.StartsWith($marker)) {
            $title = $line.Substring($marker.Length).Trim()
            $sections[$title] = [Collections.Generic.List[string]]::new()
            continue
        }
        if ($null -ne $title) { $sections[$title].Add($line) }
    }
    $sections
}

function Read-CommandMarkdown([string] $Path) {
    $lines = @(Get-Content -LiteralPath $Path -Encoding utf8)
    $name = ($lines | Where-Object { $_ -match '^# ' } | Select-Object -First 1) -replace '^# ', ''
    $sections = Split-Section $lines 2
    $get = { param($key) if ($sections.Contains($key)) { @($sections[$key]) } else { @() } }

    $examples = foreach ($entry in (Split-Section (& $get 'EXAMPLES') 3).GetEnumerator()) {
        $code = [Collections.Generic.List[string]]::new()
        $rest = [Collections.Generic.List[string]]::new()
        $inCode = $false; $isCode = $false; $codeDone = $false
        foreach ($line in $entry.Value) {
            if ($line -match '^\s*```\s*(\w*)') {
                if (-not $inCode) { $inCode = $true; $isCode = -not $codeDone -and ($Matches[1] -in @('', 'powershell', 'pwsh', 'ps')); if (-not $isCode) { $rest.Add($line) }; continue }
                $inCode = $false; if ($isCode) { $codeDone = $true } else { $rest.Add($line) }; continue
            }
            if ($inCode -and $isCode) { $code.Add($line) } else { $rest.Add($line) }
        }
        [pscustomobject]@{ Title = $entry.Key; Code = ($code -join "`n").Trim(); Remarks = ConvertTo-Paragraph $rest }
    }

    $parameters = [ordered]@{}
    foreach ($entry in (Split-Section (& $get 'PARAMETERS') 3).GetEnumerator()) {
        $text = [Collections.Generic.List[string]]::new()
        $default = $null
        $inYaml = $false
        foreach ($line in $entry.Value) {
            if ($line -match '^\s*```yaml') { $inYaml = $true; continue }
            if ($inYaml) {
                if ($line -match '^\s*```') { $inYaml = $false }
                elseif ($line -match '^\s*Default value:\s*(.+)$') { $default = $Matches[1].Trim() }
                continue
            }
            $text.Add($line)
        }
        $parameters[$entry.Key.TrimStart('-').Trim()] = [pscustomobject]@{ Description = ConvertTo-Paragraph $text; DefaultValue = $default }
    }

    $types = { param($key)
        foreach ($entry in (Split-Section (& $get $key) 3).GetEnumerator()) {
            [pscustomobject]@{ Type = $entry.Key; Description = ConvertTo-Paragraph $entry.Value }
        }
    }

    $links = foreach ($line in (& $get 'RELATED LINKS')) {
        if ($line -match '\[([^\]]+)\]\(([^)]*)\)') { [pscustomobject]@{ Text = $Matches[1]; Uri = $Matches[2] } }
        elseif ($line -match '^\s*[-*]\s+(.+)$') { [pscustomobject]@{ Text = $Matches[1].Trim(); Uri = '' } }
    }

    [pscustomobject]@{
        Name        = $name.Trim()
        Path        = $Path
        Synopsis    = ConvertTo-Paragraph (& $get 'SYNOPSIS')
        Description = ConvertTo-Paragraph (& $get 'DESCRIPTION')
        Examples    = @($examples)
        Parameters  = $parameters
        Inputs      = @(& $types 'INPUTS')
        Outputs     = @(& $types 'OUTPUTS')
        Notes       = ConvertTo-Paragraph (& $get 'NOTES')
        Links       = @($links)
    }
}

#endregion

#region MAML

$ns = @{
    msh     = 'http://msh'
    maml    = 'http://schemas.microsoft.com/maml/2004/10'
    command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
    dev     = 'http://schemas.microsoft.com/maml/dev/2004/10'
}

function Write-Para([Xml.XmlWriter] $Writer, [string] $Element, [string[]] $Paragraphs) {
    $prefix, $local = $Element -split ':'
    $Writer.WriteStartElement($prefix, $local, $ns[$prefix])
    foreach ($p in $Paragraphs) { $Writer.WriteElementString('maml', 'para', $ns.maml, $p) }
    $Writer.WriteEndElement()
}

function Get-PipelineInput($Usages) {
    $kinds = @()
    if ($Usages | Where-Object ValueFromPipeline) { $kinds += 'ByValue' }
    if ($Usages | Where-Object ValueFromPipelineByPropertyName) { $kinds += 'ByPropertyName' }
    if ($kinds) { "True ($($kinds -join ', '))" } else { 'False' }
}

function Write-Parameter([Xml.XmlWriter] $Writer, $Meta, $Usages, [string[]] $Description, [string] $DefaultValue, [bool] $InSyntax) {
    # Get-Help shows one value for every set: required only when required in each set it belongs to (the syntax
    # blocks show it per set), and the position of the set where it has one.
    $requiredText = "$(-not ($Usages | Where-Object { -not $_.IsMandatory }))".ToLowerInvariant()
    $positions = @($Usages | Where-Object Position -ge 0 | ForEach-Object { "$($_.Position)" } | Select-Object -First 1)
    if (-not $positions) { $positions = @('named') }
    $Writer.WriteStartElement('command', 'parameter', $ns.command)
    $Writer.WriteAttributeString('required', $requiredText)
    $Writer.WriteAttributeString('variableLength', "$([bool]$Meta.IsArray)".ToLowerInvariant())
    $Writer.WriteAttributeString('globbing', "$([bool]$Meta.Globbing)".ToLowerInvariant())
    $Writer.WriteAttributeString('pipelineInput', (Get-PipelineInput $Usages))
    $Writer.WriteAttributeString('position', $positions[0])
    $Writer.WriteAttributeString('aliases', $(if ($Meta.Aliases.Count) { $Meta.Aliases -join ', ' } else { 'none' }))
    $Writer.WriteElementString('maml', 'name', $ns.maml, $Meta.Name)
    Write-Para $Writer 'maml:description' $Description
    if ($Meta.EnumValues.Count -and $InSyntax) {
        $Writer.WriteStartElement('command', 'parameterValueGroup', $ns.command)
        foreach ($value in $Meta.EnumValues) {
            $Writer.WriteStartElement('command', 'parameterValue', $ns.command)
            $Writer.WriteAttributeString('required', 'false')
            $Writer.WriteAttributeString('command', 'variableLength', $ns.command, 'false')
            $Writer.WriteString($value)
            $Writer.WriteEndElement()
        }
        $Writer.WriteEndElement()
    }
    elseif (-not ($Meta.IsSwitch -and $InSyntax)) {
        $Writer.WriteStartElement('command', 'parameterValue', $ns.command)
        $Writer.WriteAttributeString('required', "$(-not $Meta.IsSwitch)".ToLowerInvariant())
        $Writer.WriteAttributeString('variableLength', "$([bool]$Meta.IsArray)".ToLowerInvariant())
        $Writer.WriteString($Meta.TypeName)
        $Writer.WriteEndElement()
    }
    $Writer.WriteStartElement('dev', 'type', $ns.dev)
    $Writer.WriteElementString('maml', 'name', $ns.maml, $Meta.TypeFullName)
    $Writer.WriteElementString('maml', 'uri', $ns.maml, '')
    $Writer.WriteEndElement()
    $Writer.WriteElementString('dev', 'defaultValue', $ns.dev, $(if ($DefaultValue) { $DefaultValue } elseif ($Meta.IsSwitch) { 'False' } else { 'None' }))
    $Writer.WriteEndElement()
}

function Write-Command([Xml.XmlWriter] $Writer, $Doc, $Meta) {
    $Writer.WriteStartElement('command', 'command', $ns.command)
    $Writer.WriteAttributeString('xmlns', 'maml', $null, $ns.maml)
    $Writer.WriteAttributeString('xmlns', 'command', $null, $ns.command)
    $Writer.WriteAttributeString('xmlns', 'dev', $null, $ns.dev)

    $Writer.WriteStartElement('command', 'details', $ns.command)
    $Writer.WriteElementString('command', 'name', $ns.command, $Meta.Name)
    $Writer.WriteElementString('command', 'verb', $ns.command, $Meta.Verb)
    $Writer.WriteElementString('command', 'noun', $ns.command, $Meta.Noun)
    Write-Para $Writer 'maml:description' $Doc.Synopsis
    $Writer.WriteEndElement()

    Write-Para $Writer 'maml:description' $Doc.Description

    $metaByName = @{}
    foreach ($p in $Meta.Parameters) { $metaByName[$p.Name] = $p }
    $descriptionOf = {
        param($name)
        if ($Doc.Parameters.Contains($name) -and $Doc.Parameters[$name].Description.Count) { $Doc.Parameters[$name].Description }
        elseif ($riskParameters.ContainsKey($name)) { @($riskParameters[$name]) }
        else { @() }
    }
    $defaultOf = { param($name) if ($Doc.Parameters.Contains($name) -and $Doc.Parameters[$name].DefaultValue) { $Doc.Parameters[$name].DefaultValue } else { $metaByName[$name].DefaultValue } }

    $Writer.WriteStartElement('command', 'syntax', $ns.command)
    foreach ($set in $Meta.ParameterSets) {
        $Writer.WriteStartElement('command', 'syntaxItem', $ns.command)
        $Writer.WriteElementString('maml', 'name', $ns.maml, $Meta.Name)
        foreach ($usage in $set.Parameters) {
            $u = $usage.PSObject.Copy(); $u | Add-Member SetName $set.Name
            Write-Parameter $Writer $metaByName[$usage.Name] @($u) (& $descriptionOf $usage.Name) (& $defaultOf $usage.Name) $true
        }
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()

    # Parameters in the order the markdown documents them, then any it does not.
    $order = @($Doc.Parameters.Keys | Where-Object { $metaByName.ContainsKey($_) }) + @($Meta.Parameters.Name | Where-Object { -not $Doc.Parameters.Contains($_) })
    $Writer.WriteStartElement('command', 'parameters', $ns.command)
    foreach ($name in $order) {
        $usages = foreach ($set in $Meta.ParameterSets) {
            foreach ($usage in $set.Parameters | Where-Object Name -eq $name) {
                $u = $usage.PSObject.Copy(); $u | Add-Member SetName $set.Name; $u
            }
        }
        Write-Parameter $Writer $metaByName[$name] @($usages) (& $descriptionOf $name) (& $defaultOf $name) $false
    }
    $Writer.WriteEndElement()

    foreach ($kind in @(@('inputTypes', 'inputType', $Doc.Inputs), @('returnValues', 'returnValue', $Doc.Outputs))) {
        $Writer.WriteStartElement('command', $kind[0], $ns.command)
        foreach ($item in $kind[2]) {
            $Writer.WriteStartElement('command', $kind[1], $ns.command)
            $Writer.WriteStartElement('dev', 'type', $ns.dev)
            $Writer.WriteElementString('maml', 'name', $ns.maml, $item.Type)
            $Writer.WriteEndElement()
            Write-Para $Writer 'maml:description' $item.Description
            $Writer.WriteEndElement()
        }
        $Writer.WriteEndElement()
    }

    $Writer.WriteStartElement('maml', 'alertSet', $ns.maml)
    Write-Para $Writer 'maml:alert' $Doc.Notes
    $Writer.WriteEndElement()

    $Writer.WriteStartElement('command', 'examples', $ns.command)
    foreach ($example in $Doc.Examples) {
        $Writer.WriteStartElement('command', 'example', $ns.command)
        $Writer.WriteElementString('maml', 'title', $ns.maml, "-------------------------- $($example.Title) --------------------------")
        $Writer.WriteElementString('dev', 'code', $ns.dev, $example.Code)
        Write-Para $Writer 'dev:remarks' $example.Remarks
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()

    $Writer.WriteStartElement('command', 'relatedLinks', $ns.command)
    foreach ($link in $Doc.Links) {
        $Writer.WriteStartElement('maml', 'navigationLink', $ns.maml)
        $Writer.WriteElementString('maml', 'linkText', $ns.maml, $link.Text)
        $Writer.WriteElementString('maml', 'uri', $ns.maml, $link.Uri)
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()

    $Writer.WriteEndElement()
}

#endregion

#region About topics

function Format-Wrapped([string] $Text, [int] $Indent, [int] $Width = 80) {
    $pad = ' ' * $Indent
    $lines = [Collections.Generic.List[string]]::new()
    $line = ''
    foreach ($word in ($Text -split '\s+' | Where-Object { $_ })) {
        if ($line -and ($pad.Length + $line.Length + 1 + $word.Length) -gt $Width) { $lines.Add($pad + $line); $line = $word }
        else { $line = if ($line) { "$line $word" } else { $word } }
    }
    if ($line) { $lines.Add($pad + $line) }
    $lines
}

# about_X.md (# about_X, ## SHORT DESCRIPTION, ## LONG DESCRIPTION, ### subheadings, ## SEE ALSO ...) to the
# classic about-topic text layout: upper-case headings at column 0, text indented by four.
function ConvertTo-AboutText([string] $Path) {
    $lines = @(Get-Content -LiteralPath $Path -Encoding utf8)
    $topic = ($lines | Where-Object { $_ -match '^# ' } | Select-Object -First 1) -replace '^# ', ''
    $out = [Collections.Generic.List[string]]::new()
    $out.Add('TOPIC'); $out.Add("    $($topic.Trim())"); $out.Add('')
    $inCode = $false
    $paragraph = [Collections.Generic.List[string]]::new()
    $flush = {
        if ($paragraph.Count) {
            $text = ConvertFrom-Inline ($paragraph -join ' ')
            if ($text -match '^([-*]|\d+\.)\s+(.*)$') {
                $bullet = $Matches[1]; $rest = @(Format-Wrapped $Matches[2] 0 (80 - 6 - $bullet.Length - 1))
                $out.Add("      $bullet $($rest[0])"); foreach ($r in @($rest | Select-Object -Skip 1)) { $out.Add((' ' * (7 + $bullet.Length)) + $r) }
            }
            else { foreach ($w in (Format-Wrapped $text 4)) { $out.Add($w) } }
            $paragraph.Clear()
        }
    }
    # A table: two narrow-keyed columns side by side; wider tables as one block per row ("Header: value").
    $table = [Collections.Generic.List[object]]::new()
    $flushTable = {
        if ($table.Count -lt 2) { $table.Clear(); return }
        $header = $table[0]; $rows = @($table | Select-Object -Skip 1)
        $keyWidth = ($rows | ForEach-Object { $_[0].Length } | Measure-Object -Maximum).Maximum
        if ($header.Count -eq 2 -and $keyWidth -le 28) {
            foreach ($row in $rows) {
                $wrapped = @(Format-Wrapped $row[1] 0 (80 - 6 - $keyWidth))
                $out.Add('    ' + $row[0].PadRight($keyWidth + 2) + $wrapped[0])
                foreach ($w in ($wrapped | Select-Object -Skip 1)) { $out.Add((' ' * (6 + $keyWidth)) + $w) }
            }
        }
        else {
            foreach ($row in $rows) {
                $out.Add("    $($row[0])")
                for ($i = 1; $i -lt $row.Count; $i++) { foreach ($w in (Format-Wrapped "$($header[$i]): $($row[$i])" 8)) { $out.Add($w) } }
                $out.Add('')
            }
        }
        $table.Clear()
    }
    foreach ($line in ($lines | Select-Object -Skip 1)) {
        if ($line -notmatch '^\s*\|') { & $flushTable }
        if ($line -match '^\s*```') { & $flush; $inCode = -not $inCode; if (-not $inCode) { $out.Add('') }; continue }
        if ($inCode) { $out.Add("        $line"); continue }
        if ($line -match '^## (.+)$') { & $flush; if ($out[-1] -ne '') { $out.Add('') }; $out.Add($Matches[1].Trim().ToUpperInvariant()); continue }
        if ($line -match '^#{3,} (.+)$') { & $flush; if ($out[-1] -ne '') { $out.Add('') }; $out.Add("  $(ConvertFrom-Inline $Matches[1].Trim())"); continue }
        if ($line -match '^\s*\|') {
            & $flush
            if ($line -notmatch '^\s*\|[\s:|-]+\|\s*$') { $table.Add(@($line.Trim().Trim('|') -split '\|' | ForEach-Object { ConvertFrom-Inline $_.Trim() })) }
            continue
        }
        & $flushTable
        if ($line -match '^\s*$') { & $flush; if ($out[-1] -ne '') { $out.Add('') }; continue }
        if ($line -match '^\s*([-*]|\d+\.)\s+') { & $flush }
        $paragraph.Add($line.Trim())
    }
    & $flush
    & $flushTable
    ($out -join [Environment]::NewLine).TrimEnd() + [Environment]::NewLine
}

#endregion

$metadata = Get-ModuleMetadata $ModulePath
$commandsByName = @{}
foreach ($c in $metadata.Commands) { $commandsByName[$c.Name] = $c }

$docs = foreach ($file in Get-ChildItem -LiteralPath $DocsPath -Filter '*.md' | Where-Object Name -notlike 'about_*' | Sort-Object Name) {
    $doc = Read-CommandMarkdown $file.FullName
    if ($doc.Name -ne $file.BaseName) { Write-Warning "$($file.Name): the heading names '$($doc.Name)', not '$($file.BaseName)'." }
    if (-not $commandsByName.ContainsKey($doc.Name)) { Write-Warning "$($file.Name): the module exports no command '$($doc.Name)'; skipped."; continue }
    $doc
}
$docsByName = @{}
foreach ($d in $docs) { $docsByName[$d.Name] = $d }

foreach ($command in $metadata.Commands) {
    if (-not $docsByName.ContainsKey($command.Name)) { Write-Warning "$($command.Name) has no help: add docs/help/$($command.Name).md."; continue }
    $doc = $docsByName[$command.Name]
    foreach ($p in $command.Parameters) {
        if (-not ($doc.Parameters.Contains($p.Name) -and $doc.Parameters[$p.Name].Description.Count) -and -not $riskParameters.ContainsKey($p.Name)) {
            Write-Warning "$($command.Name): parameter -$($p.Name) has no description."
        }
    }
    foreach ($name in $doc.Parameters.Keys) {
        if ($name -notin $command.Parameters.Name) { Write-Warning "$($command.Name): the help documents -$name, which the cmdlet does not have." }
    }
}

New-Item -ItemType Directory -Path $OutputPath -Force | Out-Null
$helpFile = Join-Path $OutputPath "$($metadata.RootModule)-Help.xml"
$settings = [Xml.XmlWriterSettings]@{ Indent = $true; Encoding = [Text.UTF8Encoding]::new($false) }
$writer = [Xml.XmlWriter]::Create($helpFile, $settings)
try {
    $writer.WriteStartDocument()
    $writer.WriteStartElement('helpItems', $ns.msh)
    $writer.WriteAttributeString('schema', 'maml')
    foreach ($command in $metadata.Commands) {
        if ($docsByName.ContainsKey($command.Name)) { Write-Command $writer $docsByName[$command.Name] $command }
    }
    $writer.WriteEndElement()
    $writer.WriteEndDocument()
}
finally {
    $writer.Dispose()
}
Write-Verbose "Wrote $helpFile ($($docs.Count) commands)."

foreach ($file in Get-ChildItem -LiteralPath $DocsPath -Filter 'about_*.md') {
    $target = Join-Path $OutputPath "$($file.BaseName).help.txt"
    [IO.File]::WriteAllText($target, (ConvertTo-AboutText $file.FullName), [Text.UTF8Encoding]::new($false))
    Write-Verbose "Wrote $target."
}
