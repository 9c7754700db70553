"""The Streamlit dashboard of the VAE Latent Explorer (run: streamlit run dashboard/app.py)."""
