using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using MailKit;

namespace ReplyAdmin.Engine.Imap
{
    /// <summary>Lists the folders of an IMAP account, with '/' between levels as ReplyAdmin's configuration writes them.</summary>
    public static class ImapFolderLister
    {
        /// <summary>All subscribed and unsubscribed folders of the personal namespace.</summary>
        /// <exception cref="ImapConnectionException">The server cannot be reached or refuses the login.</exception>
        public static async Task<IReadOnlyList<string>> ListAsync(ImapEndpoint endpoint, NetworkCredential credential, CancellationToken cancellationToken)
        {
            using (var client = await ImapConnector.ConnectAsync(endpoint, credential, cancellationToken).ConfigureAwait(false))
            {
                var names = new List<string> { "INBOX" };
                foreach (var ns in client.PersonalNamespaces)
                {
                    var root = client.GetFolder(ns);
                    var folders = await root.GetSubfoldersAsync(StatusItems.None, false, cancellationToken).ConfigureAwait(false);
                    var pending = new Queue<IMailFolder>(folders);
                    while (pending.Count > 0)
                    {
                        var folder = pending.Dequeue();
                        if (!string.Equals(folder.FullName, "INBOX", System.StringComparison.OrdinalIgnoreCase))
                            names.Add(folder.FullName.Replace(folder.DirectorySeparator, '/'));
                        if ((folder.Attributes & FolderAttributes.HasNoChildren) == 0)
                            foreach (var child in await folder.GetSubfoldersAsync(StatusItems.None, false, cancellationToken).ConfigureAwait(false))
                                pending.Enqueue(child);
                    }
                }
                await client.DisconnectAsync(true, cancellationToken).ConfigureAwait(false);
                return names.Distinct().OrderBy(n => n, System.StringComparer.OrdinalIgnoreCase).ToList();
            }
        }
    }
}
