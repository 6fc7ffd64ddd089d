#Requires -Version 7.0
# The stream IMAP fetches land in (src/ReplyAdmin.Engine/Imap/FetchedBody.cs): pooled arrays, a first one fitted to the
# announced size and 64 KB ones after it. Its bytes must read back exactly as written, whatever the chunk boundaries.
Set-StrictMode -Version Latest

BeforeAll {
    . "$PSScriptRoot/Support/Common.ps1"
    Import-Module $ModulePath -Force
    $type = Get-ReplyAdminType 'ReplyAdmin.Engine.Imap.FetchedBody'
    function New-FetchedBody([int] $Capacity) { [Activator]::CreateInstance($type, [Reflection.BindingFlags] 'Instance,Public,NonPublic', $null, @($Capacity), $null) }
    function Get-Bytes([int] $Count, [int] $Seed) { $b = [byte[]]::new($Count); [Random]::new($Seed).NextBytes($b); , $b }
    function Read-All($Stream) { $Stream.Position = 0; $copy = [IO.MemoryStream]::new(); $Stream.CopyTo($copy, 3000); , $copy.ToArray() }
}

Describe 'FetchedBody' -Tag Unit {
    Context 'When MailKit writes a literal in 4 KB pieces' {
        It 'Reads back <Size> bytes announced as <Announced> unchanged' -ForEach @(
            @{ Size = 0; Announced = 0 }, @{ Size = 5000; Announced = 5000 }, @{ Size = 65536; Announced = 65536 },
            @{ Size = 65537; Announced = 65537 }, @{ Size = 9437184; Announced = 9437184 }, @{ Size = 200000; Announced = 1000 }
        ) {
            $data = Get-Bytes $Size 7
            $body = New-FetchedBody $Announced
            try {
                for ($at = 0; $at -lt $Size; $at += 4096) { $body.Write($data, $at, [Math]::Min(4096, $Size - $at)) }
                $body.Length | Should -Be $Size
                [Convert]::ToBase64String((Read-All $body)) | Should -BeExactly ([Convert]::ToBase64String($data))
            }
            finally { $body.Dispose() }
        }
    }

    Context 'When it is read, sought and cut' {
        It 'Reads single bytes across a chunk boundary, seeks from the end and reads zeros after a longer SetLength' {
            $data = Get-Bytes 70000 3
            $body = New-FetchedBody 70000
            try {
                $body.Write($data, 0, $data.Length)
                $body.Position = 65535
                $body.ReadByte() | Should -Be $data[65535]
                $body.ReadByte() | Should -Be $data[65536]
                [void] $body.Seek(-1, 'End'); $body.ReadByte() | Should -Be $data[69999]; $body.ReadByte() | Should -Be -1
                $body.SetLength(10); $body.Length | Should -Be 10; $body.Position | Should -Be 10
                $body.SetLength(140000)
                $tail = (Read-All $body)[10..139999]
                @($tail | Where-Object { $_ -ne 0 }) | Should -BeNullOrEmpty -Because 'bytes past the old end read as zeros, not as what a pooled array held'
            }
            finally { $body.Dispose() }
        }

        It 'Hands its bytes to a detached stream and is empty itself; a disposed stream refuses to be read' {
            $data = Get-Bytes 100000 5
            $body = New-FetchedBody 100000
            $body.Write($data, 0, $data.Length)
            $taken = $body.GetType().GetMethod('Detach', [Reflection.BindingFlags] 'Instance,NonPublic').Invoke($body, @())
            try {
                $body.Length | Should -Be 0
                $taken.Position | Should -Be 0
                [Convert]::ToBase64String((Read-All $taken)) | Should -BeExactly ([Convert]::ToBase64String($data))
            }
            finally { $body.Dispose(); $taken.Dispose() }
            { $taken.ReadByte() } | Should -Throw '*FetchedBody*'
        }
    }
}
