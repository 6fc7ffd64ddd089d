# Reads and writes test mailboxes over IMAP the way a mail client does (MailKit, implicit TLS, the test
# server's pinned certificate). Dot-source after importing the module and starting the mail server. MailKit and the
# engine are the module's own (Get-ReplyAdminType in Common.ps1): they live in its load context.
Set-StrictMode -Version Latest

function Connect-TestImap {
    param([Parameter(Mandatory)] $Server, [Parameter(Mandatory)] [string] $User)
    $endpoint = (Get-ReplyAdminType ReplyAdmin.Engine.Imap.ImapEndpoint)::new()
    $endpoint.Host = $Server.ImapHost
    $endpoint.Port = $Server.ImapPort
    $endpoint.UserName = $User
    $endpoint.CertificateThumbprint = $Server.CertificateThumbprint
    $credential = [System.Net.NetworkCredential]::new($User, $Server.Users[$User])
    (Get-ReplyAdminType ReplyAdmin.Engine.Imap.ImapConnector)::ConnectAsync($endpoint, $credential, [Threading.CancellationToken]::None).GetAwaiter().GetResult()
}

function Get-TestImapFolder {
    param($Client, [string] $Folder, [switch] $Create)
    $ns = $Client.PersonalNamespaces[0]
    $path = if ($Folder -eq 'INBOX') { 'INBOX' } else { $Folder.Replace('/', [string]$ns.DirectorySeparator) }
    # A folder is an IEnumerable of messages: return it with ',' so PowerShell does not enumerate it.
    try { return , $Client.GetFolder($path) }
    catch {
        $notFound = $_.Exception, $_.Exception.InnerException | Where-Object { $_ -and $_.GetType().FullName -eq 'MailKit.FolderNotFoundException' }
        if (-not $notFound) { throw }
        if (-not $Create) { return $null }
        $parent = $Client.GetFolder($ns)
        foreach ($level in $Folder.Split('/')) {
            $next = $null
            foreach ($sub in $parent.GetSubfolders($false)) { if ($sub.Name -eq $level) { $next = $sub } }
            if ($null -ne $next) { $parent = $next } else { $parent = $parent.Create($level, $true) }
        }
        return , $parent
    }
}

# Every message of a folder: UID, keywords, flags, Message-ID, subject and the exact bytes (BODY.PEEK[]).
function Get-TestImapMessage {
    param([Parameter(Mandatory)] $Server, [Parameter(Mandatory)] [string] $User, [string] $Folder = 'INBOX')
    $client = Connect-TestImap -Server $Server -User $User
    try {
        $mailbox = Get-TestImapFolder -Client $client -Folder $Folder
        if (-not $mailbox) { return }
        [void] $mailbox.Open((Get-ReplyAdminType MailKit.FolderAccess)::ReadOnly)
        if ($mailbox.Count -eq 0) { return }
        $items = [Enum]::Parse((Get-ReplyAdminType MailKit.MessageSummaryItems), 'UniqueId, Flags, Envelope, Size, InternalDate')
        foreach ($summary in $mailbox.Fetch(0, -1, (Get-ReplyAdminType MailKit.FetchRequest)::new($items))) {
            $stream = $mailbox.GetStream($summary.UniqueId)
            $buffer = [IO.MemoryStream]::new()
            $stream.CopyTo($buffer); $stream.Dispose()
            [pscustomobject]@{
                Uid          = $summary.UniqueId.Id
                Keywords     = @($summary.Keywords)
                Flags        = $summary.Flags
                MessageId    = $summary.Envelope.MessageId
                Subject      = $summary.Envelope.Subject
                InternalDate = $summary.InternalDate
                Bytes        = $buffer.ToArray()
            }
        }
    }
    finally { $client.Disconnect($true); $client.Dispose() }
}

# Appends message files unchanged (persistent parse: the original bytes are written back).
function Add-TestImapMessage {
    param([Parameter(Mandatory)] $Server, [Parameter(Mandatory)] [string] $User, [string] $Folder = 'INBOX', [Parameter(Mandatory)] [string[]] $Path)
    $client = Connect-TestImap -Server $Server -User $User
    try {
        $target = Get-TestImapFolder -Client $client -Folder $Folder -Create
        foreach ($file in $Path) {
            $stream = [IO.File]::OpenRead($file)
            try {
                $message = (Get-ReplyAdminType MimeKit.MimeMessage)::Load((Get-ReplyAdminType MimeKit.ParserOptions)::Default, $stream, $true)
                [void] $target.Append((Get-ReplyAdminType MailKit.AppendRequest)::new($message, (Get-ReplyAdminType MailKit.MessageFlags)::None))
            }
            finally { $stream.Dispose() }
        }
    }
    finally { $client.Disconnect($true); $client.Dispose() }
}

# Writes a configuration for the test server: reply mailbox, SMTP relay and the given lists.
function New-TestReplyConfiguration {
    param([Parameter(Mandatory)] $Server, [string] $ReplyFolder = 'INBOX', [string] $ReplyUser = 'replies@example.test')
    $config = New-TestConfigPath
    $env:REPLYADMIN_TEST_REPLIES_PW = $Server.Users[$ReplyUser]
    $env:REPLYADMIN_TEST_INBOUND_PW = $Server.Users['inbound@example.test']
    Set-ReplyMailbox -ConfigPath $config -Server $Server.ImapHost -Port $Server.ImapPort -UserName $ReplyUser -Folder $ReplyFolder `
        -CredentialReference 'env:REPLYADMIN_TEST_REPLIES_PW' -CertificateThumbprint $Server.CertificateThumbprint
    Set-ReplySmtpRelay -ConfigPath $config -Server '127.0.0.1' -Port $Server.SmtpPort -TlsMode StartTls -EnvelopeSender 'bounces@example.test' `
        -CertificateThumbprint $Server.CertificateThumbprint
    Set-ReplySenderAuthentication -ConfigPath $config -DnsServer "127.0.0.1:$($Server.DnsPort)"
    $config
}
