"""The VAE of the pytorch/examples tutorial, with its loss and its training loop, as the tutorial writes them.

From https://github.com/pytorch/examples/blob/main/vae/main.py (BSD-3-Clause,
Copyright (c) 2017 the pytorch/examples contributors). Kept as close to the original as a
test allows: the argparse, the CUDA/MPS switches and the sampling at the end of each epoch
are left out, and ``train_one_epoch`` takes its model, optimizer and loader as arguments
instead of module globals. ``tests/test_import.py`` trains it for one epoch on real MNIST
and imports the ``state_dict`` it saves, as a user of the tutorial would.
"""

from __future__ import annotations

import torch
import torch.utils.data
from torch import nn
from torch.nn import functional as F


class VAE(nn.Module):
    """784 -> 400 -> 20 (mu, logvar) -> 400 -> 784, as in the tutorial; ``hidden``/``latent`` only resize it."""

    def __init__(self, hidden: int = 400, latent: int = 20):
        super().__init__()

        self.fc1 = nn.Linear(784, hidden)
        self.fc21 = nn.Linear(hidden, latent)
        self.fc22 = nn.Linear(hidden, latent)
        self.fc3 = nn.Linear(latent, hidden)
        self.fc4 = nn.Linear(hidden, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


# Reconstruction + KL divergence losses summed over all elements and batch
def loss_function(recon_x, x, mu, logvar):
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction='sum')

    # see Appendix B from VAE paper:
    # Kingma and Welling. Auto-Encoding Variational Bayes. ICLR, 2014
    # https://arxiv.org/abs/1312.6114
    # 0.5 * sum(1 + log(sigma^2) - mu^2 - sigma^2)
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())

    return BCE + KLD


def train_one_epoch(model: VAE, optimizer: torch.optim.Optimizer, train_loader) -> float:
    """The tutorial's ``train(epoch)``: one pass of Adam over the loader; returns the average loss per image."""
    model.train()
    train_loss = 0
    for data, _ in train_loader:
        optimizer.zero_grad()
        recon_batch, mu, logvar = model(data)
        loss = loss_function(recon_batch, data, mu, logvar)
        loss.backward()
        train_loss += loss.item()
        optimizer.step()
    return train_loss / len(train_loader.dataset)


def train_on_mnist(data_dir, images: int, latent: int = 20, seed: int = 1) -> VAE:
    """The tutorial's set-up (torchvision MNIST, ToTensor, batch 128, shuffled, Adam lr 1e-3, seed 1), one epoch
    on the first ``images`` training digits; returns the model in eval mode."""
    from torchvision import datasets, transforms

    torch.manual_seed(seed)
    mnist = datasets.MNIST(str(data_dir), train=True, download=False, transform=transforms.ToTensor())
    subset = torch.utils.data.Subset(mnist, range(images))
    train_loader = torch.utils.data.DataLoader(subset, batch_size=128, shuffle=True)
    model = VAE(latent=latent)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train_one_epoch(model, optimizer, train_loader)
    return model.eval()
